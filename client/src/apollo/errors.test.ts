import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import { describe, expect, it } from "vitest";
import { formatDuration, toApiError } from "./errors";

describe("toApiError", () => {
  it("merges extensions.fields of every BAD_USER_INPUT error", () => {
    const error = new CombinedGraphQLErrors({
      data: null,
      errors: [
        {
          message: "Some input is invalid.",
          extensions: { code: "BAD_USER_INPUT", fields: { email: ["A"] } },
        },
        {
          message: "Some input is invalid.",
          extensions: { code: "BAD_USER_INPUT", fields: { email: ["B"], phone: ["C"] } },
        },
      ],
    });
    expect(toApiError(error)).toEqual({
      code: "BAD_USER_INPUT",
      message: "Some input is invalid.",
      fields: { email: ["A", "B"], phone: ["C"] },
      retryAfter: null,
    });
  });

  it("reads RATE_LIMITED's retryAfter", () => {
    const error = new CombinedGraphQLErrors({
      data: null,
      errors: [{ message: "Slow down.", extensions: { code: "RATE_LIMITED", retryAfter: 12 } }],
    });
    expect(toApiError(error)).toMatchObject({ code: "RATE_LIMITED", retryAfter: 12 });
  });

  it("never shows an internal error's text", () => {
    const error = new CombinedGraphQLErrors({
      data: null,
      errors: [
        { message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } },
      ],
    });
    expect(toApiError(error).message).toBe("Something went wrong on our side. Please try again.");
  });

  it("reads GraphQL errors from a non-2xx JSON body, and Retry-After when the body has none", () => {
    const response = new Response("", { status: 429, headers: { "retry-after": "30" } });
    const body = JSON.stringify({
      errors: [{ message: "Too many.", extensions: { code: "RATE_LIMITED" } }],
    });
    const error = new ServerError("429", { response, bodyText: body });
    expect(toApiError(error)).toMatchObject({ code: "RATE_LIMITED", retryAfter: 30 });
  });

  it("calls anything else a network problem", () => {
    expect(toApiError(new TypeError("Failed to fetch"))).toMatchObject({
      code: "NETWORK",
      message: "Can't reach the server. Check your connection and try again.",
    });
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 seconds"],
    [1, "1 second"],
    [59.2, "1 minute"],
    [90, "1 minute 30 seconds"],
    [3600, "1 hour"],
    [3725, "1 hour 2 minutes 5 seconds"],
  ])("%s s is %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
