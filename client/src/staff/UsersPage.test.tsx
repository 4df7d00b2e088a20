import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { FakeRequest } from "../test/fakeApi";
import { viewer } from "../test/fakeApi";
import { renderApp } from "../test/renderApp";

const staff = viewer({ id: "staff-1", email: "staff@example.com", isStaff: true });

function userNode(n: number, isActive = true) {
  return {
    __typename: "User",
    id: `u-${n}`,
    email: `user${n}@example.com`,
    username: `user${n}`,
    firstName: "",
    lastName: "",
    isActive,
    isStaff: false,
    emailVerified: true,
    dateJoined: "2025-01-01T00:00:00Z",
    lastLogin: null,
  };
}

function page(request: FakeRequest) {
  const after = request.variables.after as string | null;
  const start = after ? Number(after) : 0;
  const ids = [start + 1, start + 2];
  return {
    data: {
      users: {
        __typename: "UserConnection",
        totalCount: 4,
        pageInfo: {
          __typename: "PageInfo",
          hasNextPage: start === 0,
          hasPreviousPage: start > 0,
          startCursor: String(start),
          endCursor: String(start + 2),
        },
        edges: ids.map((n) => ({ __typename: "UserEdge", node: userNode(n) })),
      },
    },
  };
}

describe("staff: users", () => {
  it("pages with cursors, filters, sorts and deactivates", async () => {
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const { api } = renderApp("/staff/users", {
      signedIn: true,
      user: staff,
      handlers: {
        Viewer: () => ({ data: { me: staff } }),
        StaffUsers: page,
        DeactivateUser: (r) => ({
          data: { deactivateUser: { __typename: "User", id: r.variables.id, isActive: false } },
        }),
      },
    });
    const user = userEvent.setup();
    expect(await screen.findByText("user1@example.com")).toBeInTheDocument();
    expect(api.calls("StaffUsers")[0]?.variables).toMatchObject({
      first: 25,
      after: null,
      orderBy: { field: "DATE_JOINED", direction: "DESC" },
      filter: { search: null, isActive: null, isStaff: null },
    });

    await user.click(screen.getByRole("button", { name: "Next page" }));
    expect(await screen.findByText("user3@example.com")).toBeInTheDocument();
    expect(api.calls("StaffUsers").at(-1)?.variables).toMatchObject({ first: 25, after: "2" });

    await user.selectOptions(screen.getByLabelText("Status"), "Deactivated");
    await waitFor(() =>
      expect(api.calls("StaffUsers").at(-1)?.variables).toMatchObject({
        after: null,
        filter: { isActive: false },
      }),
    );

    await user.click(screen.getByRole("button", { name: "Email" }));
    await waitFor(() =>
      expect(api.calls("StaffUsers").at(-1)?.variables).toMatchObject({
        orderBy: { field: "EMAIL", direction: "ASC" },
      }),
    );
    expect(screen.getByRole("columnheader", { name: /email/i })).toHaveAttribute(
      "aria-sort",
      "ascending",
    );

    const row = (await screen.findByText("user1@example.com")).closest("tr");
    if (!row) throw new Error("user1@example.com is not in a table row");
    await user.click(within(row).getByRole("button", { name: "Deactivate user1@example.com" }));
    expect(await screen.findByText("Deactivated user1@example.com.")).toBeInTheDocument();
    await waitFor(() => expect(within(row).getByText("Deactivated")).toBeInTheDocument());
    expect(api.calls("DeactivateUser")[0]?.variables).toEqual({ id: "u-1" });
  });

  it("is for staff only", async () => {
    renderApp("/staff/users", {
      signedIn: true,
      handlers: { Viewer: () => ({ data: { me: viewer() } }) },
    });
    expect(
      await screen.findByRole("heading", { level: 1, name: "Staff only" }),
    ).toBeInTheDocument();
  });
});
