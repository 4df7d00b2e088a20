import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { authPayload, gqlError } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

async function submit(email = "ada@example.com", password = "correct horse") {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText(/^email/i), email);
  await user.type(screen.getByLabelText(/^password/i), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

describe("sign in", () => {
  it("shows BAD_USER_INPUT's extensions.fields next to their inputs, and focuses the first", async () => {
    renderApp("/sign-in", {
      handlers: {
        Login: () => ({
          data: null,
          errors: [
            gqlError(
              "BAD_USER_INPUT",
              "Some input is invalid.",
              {
                fields: {
                  email: ["Enter a valid email address."],
                  password: ["Use at least 8 characters.", "Avoid common passwords."],
                  captcha: ["Solve the puzzle."],
                },
              },
              ["login"],
            ),
          ],
        }),
      },
    });
    await submit("not-an-email", "short");

    const email = await screen.findByLabelText(/^email/i);
    await waitFor(() => expect(email).toHaveAttribute("aria-invalid", "true"));
    expect(email).toHaveAccessibleDescription("Enter a valid email address.");
    expect(email).toHaveFocus();
    const password = screen.getByLabelText(/^password/i);
    expect(password).toHaveAttribute("aria-invalid", "true");
    expect(password).toHaveAccessibleDescription(
      "Use at least 8 characters. Avoid common passwords.",
    );
    // A field the form has no input for is listed in the form's alert.
    const alert = screen.getByRole("alert");
    expect(within(alert).getByText("Solve the puzzle.")).toBeInTheDocument();
  });

  it("shows the RATE_LIMITED wait from extensions.retryAfter", async () => {
    renderApp("/sign-in", {
      handlers: {
        Login: () => ({
          data: null,
          errors: [
            gqlError("RATE_LIMITED", "Too many attempts; try again later.", { retryAfter: 90 }, [
              "login",
            ]),
          ],
        }),
      },
    });
    await submit();

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Too many attempts. Try again in 1 minute 30 seconds.");
    expect(alert.closest(".form-alert")).toHaveFocus();
  });

  it("shows the wait of the per-IP budget's 429 too", async () => {
    renderApp("/sign-in", {
      handlers: {
        Login: () => ({
          status: 429,
          headers: { "retry-after": "42" },
          body: {
            errors: [
              {
                message: "Too many requests.",
                extensions: { code: "RATE_LIMITED", retryAfter: 42 },
              },
            ],
          },
        }),
      },
    });
    await submit();

    expect(await screen.findByRole("alert")).toHaveTextContent("Try again in 42 seconds.");
  });

  it("says the credentials are wrong without refreshing anything", async () => {
    const { api } = renderApp("/sign-in", {
      handlers: {
        Login: () => ({
          data: null,
          errors: [gqlError("UNAUTHENTICATED", "Invalid email or password.", {}, ["login"])],
        }),
      },
    });
    await submit();

    expect(await screen.findByRole("alert")).toHaveTextContent("Invalid email or password.");
    expect(screen.getByLabelText(/^password/i)).toHaveValue("");
    // Only the silent refresh on load; none after the failed login.
    expect(api.calls("Refresh")).toHaveLength(1);
  });

  it("signs in and goes to the profile", async () => {
    const { api, app } = renderApp("/sign-in", {
      handlers: {
        Login: () => ({ data: { login: authPayload("fresh") } }),
        MyProfile: () => ({
          data: {
            me: {
              __typename: "User",
              id: "u-1",
              email: "ada@example.com",
              username: "ada",
              firstName: "Ada",
              lastName: "Lovelace",
              emailVerified: true,
              dateJoined: "2025-01-01T00:00:00Z",
              profile: {
                __typename: "UserProfile",
                id: "p-1",
                phone: null,
                address: null,
                preferences: {},
                updatedAt: "2025-01-01T00:00:00Z",
              },
            },
          },
        }),
      },
    });
    await submit();

    expect(
      await screen.findByRole("heading", { level: 1, name: "Your profile" }),
    ).toBeInTheDocument();
    expect(await screen.findByText("Signed in as")).toBeInTheDocument();
    expect(app.session.accessToken).toBe("fresh");
    expect(api.calls("MyProfile")[0]?.authorization).toBe("Bearer fresh");
    // The token is kept in memory only.
    expect(JSON.stringify({ ...localStorage })).not.toContain("fresh");
    expect(JSON.stringify({ ...sessionStorage })).not.toContain("fresh");
  });
});
