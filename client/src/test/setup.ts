import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

// A console error in a test (React's act() warnings, Apollo's cache warnings, a failed
// prop type...) fails that test: the app must run without any.
let consoleErrors: unknown[][] = [];
beforeEach(() => {
  consoleErrors = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    consoleErrors.push(args);
  });
});

afterEach(() => {
  cleanup();
  if (consoleErrors.length) {
    const messages = consoleErrors.map((args) => args.map(String).join(" ")).join("\n");
    throw new Error(`console.error was called:\n${messages}`);
  }
});
