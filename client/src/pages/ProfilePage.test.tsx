import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { deferred, type FakeReply, gqlError } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

const me = {
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
    phone: "+44 20 7946 0000",
    address: null,
    preferences: { newsletter: false },
    updatedAt: "2025-01-01T00:00:00Z",
  },
};

function updated(input: Record<string, unknown>) {
  return {
    data: {
      updateProfile: {
        __typename: "User",
        id: me.id,
        username: me.username,
        firstName: input.firstName ?? me.firstName,
        lastName: me.lastName,
        profile: {
          ...me.profile,
          preferences: input.preferences ?? me.profile.preferences,
          updatedAt: "2025-02-01T00:00:00Z",
        },
      },
    },
  };
}

describe("profile", () => {
  it("shows an edit at once (optimistic), sending only what changed", async () => {
    const reply = deferred<FakeReply>();
    const { api } = renderApp("/profile", {
      signedIn: true,
      handlers: { MyProfile: () => ({ data: { me } }), UpdateProfile: () => reply.promise },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit profile" }));
    const first = screen.getByLabelText("First name");
    expect(first).toHaveFocus();
    await user.clear(first);
    await user.type(first, "Augusta");
    const preferences = screen.getByLabelText("Preferences (JSON)");
    await user.clear(preferences);
    await user.type(preferences, '{{"newsletter": true}');
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    // Before the API has answered:
    expect(await screen.findByText("Augusta Lovelace")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Saving your changes…");
    expect(api.calls("UpdateProfile")[0]?.variables).toEqual({
      input: { firstName: "Augusta", preferences: { newsletter: true } },
    });
    reply.resolve(updated({ firstName: "Augusta", preferences: { newsletter: true } }));
    await waitFor(() =>
      expect(screen.getByRole("status")).toHaveTextContent("Your changes are saved."),
    );
    expect(screen.getByText("Augusta Lovelace")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Details" })).toHaveFocus();
  });

  it("rolls back when the API refuses, and reopens the form with its errors", async () => {
    const reply = deferred<FakeReply>();
    renderApp("/profile", {
      signedIn: true,
      handlers: { MyProfile: () => ({ data: { me } }), UpdateProfile: () => reply.promise },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit profile" }));
    const phone = screen.getByLabelText("Phone");
    await user.clear(phone);
    await user.type(phone, "call me maybe");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("call me maybe")).toBeInTheDocument();

    reply.resolve({
      data: null,
      errors: [
        gqlError(
          "BAD_USER_INPUT",
          "Some input is invalid.",
          { fields: { phone: ["Enter a phone number (digits, spaces, +, -, parentheses)."] } },
          ["updateProfile"],
        ),
      ],
    });

    const field = await screen.findByLabelText("Phone");
    expect(field).toHaveValue("call me maybe");
    expect(field).toHaveAccessibleDescription(
      "Enter a phone number (digits, spaces, +, -, parentheses).",
    );
    await waitFor(() => expect(field).toHaveFocus());
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.getByRole("button", { name: "Edit profile" })).toHaveFocus();
    // The optimistic value is gone from the cache.
    const details = screen.getByRole("region", { name: "Details" });
    expect(within(details).getByText("+44 20 7946 0000")).toBeInTheDocument();
    expect(within(details).queryByText("call me maybe")).not.toBeInTheDocument();
  });

  it("checks the preferences JSON before sending", async () => {
    const { api } = renderApp("/profile", {
      signedIn: true,
      handlers: { MyProfile: () => ({ data: { me } }) },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit profile" }));
    const preferences = screen.getByLabelText("Preferences (JSON)");
    await user.clear(preferences);
    await user.type(preferences, "[[1, 2]");
    await user.click(screen.getByRole("button", { name: "Save changes" }));

    expect(preferences).toHaveAttribute("aria-invalid", "true");
    expect(preferences).toHaveAccessibleDescription(
      expect.stringContaining("Must be a JSON object"),
    );
    expect(api.calls("UpdateProfile")).toHaveLength(0);
  });

  it("sends a signed-out visitor to sign in", async () => {
    renderApp("/profile");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeInTheDocument();
  });
});
