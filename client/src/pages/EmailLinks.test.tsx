import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { gqlError } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

const DEAD_LINK = "This link is invalid, used or expired; ask for a new one.";

describe("email verification landing page", () => {
  it("verifies the token once, even in strict mode", async () => {
    const { api } = renderApp("/verify-email?token=abc123", {
      handlers: {
        VerifyEmail: () => ({
          data: {
            verifyEmail: {
              __typename: "User",
              id: "u-1",
              email: "ada@example.com",
              emailVerified: true,
            },
          },
        }),
      },
    });
    expect(
      await screen.findByRole("heading", { level: 1, name: "Email verified" }),
    ).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("ada@example.com is verified");
    expect(api.calls("VerifyEmail").map((r) => r.variables)).toEqual([{ token: "abc123" }]);
  });

  it("explains a dead link", async () => {
    renderApp("/verify-email?token=used", {
      handlers: {
        VerifyEmail: () => ({
          data: null,
          errors: [
            gqlError(
              "BAD_USER_INPUT",
              "Some input is invalid.",
              { fields: { token: [DEAD_LINK] } },
              ["verifyEmail"],
            ),
          ],
        }),
      },
    });
    expect(await screen.findByRole("alert")).toHaveTextContent(DEAD_LINK);
  });

  it("says so when the link has no token", async () => {
    const { api } = renderApp("/verify-email");
    expect(await screen.findByRole("alert")).toHaveTextContent("This link is incomplete.");
    expect(api.calls("VerifyEmail")).toHaveLength(0);
  });
});

describe("password reset", () => {
  it("asks for a link, without telling whether the account exists", async () => {
    const { api } = renderApp("/forgot-password", {
      handlers: { RequestPasswordReset: () => ({ data: { requestPasswordReset: true } }) },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^email/i), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));

    expect(await screen.findByRole("status")).toHaveTextContent(
      "If an account exists for ada@example.com",
    );
    expect(api.calls("RequestPasswordReset")[0]?.variables).toEqual({ email: "ada@example.com" });
  });

  it("sets the new password with the token from the link", async () => {
    const { api } = renderApp("/reset-password?token=t0k3n", {
      handlers: { ResetPassword: () => ({ data: { resetPassword: true } }) },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^new password/i), "a much longer secret");
    await user.type(screen.getByLabelText(/^repeat/i), "a much longer secret");
    await user.click(screen.getByRole("button", { name: "Set new password" }));

    expect(
      await screen.findByRole("heading", { level: 1, name: "Password changed" }),
    ).toBeInTheDocument();
    expect(api.calls("ResetPassword")[0]?.variables).toEqual({
      token: "t0k3n",
      newPassword: "a much longer secret",
    });
  });

  it("shows the API's password rules and a dead token", async () => {
    renderApp("/reset-password?token=t0k3n", {
      handlers: {
        ResetPassword: () => ({
          data: null,
          errors: [
            gqlError(
              "BAD_USER_INPUT",
              "Some input is invalid.",
              { fields: { newPassword: ["This password is too common."], token: [DEAD_LINK] } },
              ["resetPassword"],
            ),
          ],
        }),
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^new password/i), "password1");
    await user.type(screen.getByLabelText(/^repeat/i), "password1");
    await user.click(screen.getByRole("button", { name: "Set new password" }));

    expect(await screen.findByLabelText(/^new password/i)).toHaveAccessibleDescription(
      expect.stringContaining("This password is too common."),
    );
    expect(screen.getByRole("alert")).toHaveTextContent(DEAD_LINK);
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toBeInTheDocument();
  });

  it("checks that the two passwords match before sending", async () => {
    const { api } = renderApp("/reset-password?token=t0k3n");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText(/^new password/i), "a much longer secret");
    await user.type(screen.getByLabelText(/^repeat/i), "a much longer secreT");
    await user.click(screen.getByRole("button", { name: "Set new password" }));

    expect(screen.getByLabelText(/^repeat/i)).toHaveAccessibleDescription(
      "The two passwords are not the same.",
    );
    expect(api.calls("ResetPassword")).toHaveLength(0);
  });
});
