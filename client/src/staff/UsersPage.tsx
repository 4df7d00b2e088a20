import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { toApiError } from "../apollo/errors";
import { useAuth } from "../auth/AuthContext";
import { Loading, Page } from "../components/Page";
import { graphql } from "../gql";
import type { OrderDirection, UserFilter, UserOrderField } from "../gql/graphql";
import { usePagedSearchParams } from "./usePagedSearchParams";

export const StaffUsersQuery = graphql(`
  query StaffUsers(
    $first: Int
    $after: String
    $last: Int
    $before: String
    $filter: UserFilter
    $orderBy: UserOrder
  ) {
    users(
      first: $first
      after: $after
      last: $last
      before: $before
      filter: $filter
      orderBy: $orderBy
    ) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          id
          email
          username
          firstName
          lastName
          isActive
          isStaff
          emailVerified
          dateJoined
          lastLogin
        }
      }
    }
  }
`);

export const DeactivateUserMutation = graphql(`
  mutation DeactivateUser($id: ID!) {
    deactivateUser(id: $id) {
      id
      isActive
    }
  }
`);

export const ReactivateUserMutation = graphql(`
  mutation ReactivateUser($id: ID!) {
    reactivateUser(id: $id) {
      id
      isActive
    }
  }
`);

const PAGE_SIZE = 25;
const date = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const COLUMNS: { field: UserOrderField; label: string }[] = [
  { field: "EMAIL", label: "Email" },
  { field: "USERNAME", label: "Username" },
  { field: "DATE_JOINED", label: "Joined" },
  { field: "LAST_LOGIN", label: "Last sign-in" },
];

function tristate(value: string): boolean | null {
  return value === "yes" ? true : value === "no" ? false : null;
}

/** The filters' values when the address has none. */
const FILTER_DEFAULTS = {
  q: "",
  active: "any",
  staff: "any",
  sort: "DATE_JOINED",
  dir: "DESC",
};

export default function UsersPage() {
  const { app } = useAuth();
  const page = usePagedSearchParams(FILTER_DEFAULTS);
  const q = page.get("q");
  const [search, setSearch] = useState(q);
  const { setFilter } = page;
  // Search as one types, a moment after the typing stops.
  useEffect(() => {
    if (search === q) return;
    const timer = window.setTimeout(() => setFilter("q", search.trim() ? search : ""), 300);
    return () => window.clearTimeout(timer);
  }, [search, q, setFilter]);

  const filter: UserFilter = {
    search: q.trim() || null,
    isActive: tristate(page.get("active")),
    isStaff: tristate(page.get("staff")),
  };
  const sort = page.get("sort") as UserOrderField;
  const direction = page.get("dir") as OrderDirection;
  const before = page.get("before");
  const after = page.get("after");
  const { data, previousData, loading, error, refetch } = useQuery(StaffUsersQuery, {
    variables: {
      filter,
      orderBy: { field: sort, direction },
      ...(before ? { last: PAGE_SIZE, before } : { first: PAGE_SIZE, after: after || null }),
    },
    fetchPolicy: "cache-and-network",
  });
  const users = (data ?? previousData)?.users;
  const [deactivate] = useMutation(DeactivateUserMutation);
  const [reactivate] = useMutation(ReactivateUserMutation);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const viewerId = app.session.currentUserId;

  function sortBy(field: UserOrderField) {
    if (field === sort) page.setFilter("dir", direction === "ASC" ? "DESC" : "ASC");
    else page.setFilters({ sort: field, dir: "ASC" });
  }

  async function toggleActive(user: { id: string; email: string; isActive: boolean }) {
    const verb = user.isActive ? "Deactivate" : "Reactivate";
    if (user.isActive && !window.confirm(`Deactivate ${user.email}? They will be signed out.`)) {
      return;
    }
    setPending(user.id);
    setMessage(null);
    try {
      const variables = { id: user.id };
      if (user.isActive) await deactivate({ variables });
      else await reactivate({ variables });
      setMessage({ kind: "success", text: `${verb}d ${user.email}.` });
    } catch (thrown) {
      setMessage({ kind: "error", text: `${verb} failed: ${toApiError(thrown).message}` });
    } finally {
      setPending(null);
    }
  }

  return (
    <Page title="Users" width="wide">
      {/* <search> is newer than the browsers the build targets (Vite's default); the role works
          in all of them. */}
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is too new for the build target */}
      <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="user-search">Search</label>
          <input
            id="user-search"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            placeholder="Email, username or name"
          />
        </div>
        <div className="field">
          <label htmlFor="user-active">Status</label>
          <select
            id="user-active"
            value={page.get("active")}
            onChange={(event) => page.setFilter("active", event.target.value)}
          >
            <option value="any">Any</option>
            <option value="yes">Active</option>
            <option value="no">Deactivated</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="user-staff">Role</label>
          <select
            id="user-staff"
            value={page.get("staff")}
            onChange={(event) => page.setFilter("staff", event.target.value)}
          >
            <option value="any">Any</option>
            <option value="yes">Staff</option>
            <option value="no">Customers</option>
          </select>
        </div>
      </form>

      {message ? (
        <p
          className={`alert alert--${message.kind}`}
          role={message.kind === "error" ? "alert" : "status"}
        >
          {message.text}
        </p>
      ) : null}
      {error ? (
        <div className="alert alert--error" role="alert">
          <p>{toApiError(error).message}</p>
          <button type="button" onClick={() => void refetch().catch(() => undefined)}>
            Try again
          </button>
        </div>
      ) : null}
      {!users && loading ? <Loading /> : null}
      {users ? (
        <>
          <p role="status" className="result-count">
            {loading ? "Updating… " : ""}
            {users.totalCount === 1 ? "1 user" : `${users.totalCount} users`}
          </p>
          <div className="table-scroll">
            <table className="data-table" aria-busy={loading}>
              <caption className="visually-hidden">
                Users, sorted by {COLUMNS.find((c) => c.field === sort)?.label ?? sort},{" "}
                {direction === "ASC" ? "ascending" : "descending"}
              </caption>
              <thead>
                <tr>
                  {COLUMNS.map((column) => (
                    <th
                      key={column.field}
                      scope="col"
                      aria-sort={
                        column.field === sort
                          ? direction === "ASC"
                            ? "ascending"
                            : "descending"
                          : undefined
                      }
                    >
                      <button
                        type="button"
                        className="sort-button"
                        onClick={() => sortBy(column.field)}
                      >
                        {column.label}
                        <span aria-hidden="true">
                          {column.field === sort ? (direction === "ASC" ? " ▲" : " ▼") : ""}
                        </span>
                      </button>
                    </th>
                  ))}
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.edges.map(({ node: user }) => (
                  <tr key={user.id}>
                    <td>
                      {user.email}
                      {user.emailVerified ? null : <span className="muted"> (unverified)</span>}
                    </td>
                    <td>{user.username}</td>
                    <td>{date.format(new Date(user.dateJoined))}</td>
                    <td>{user.lastLogin ? date.format(new Date(user.lastLogin)) : "never"}</td>
                    <td>{[user.firstName, user.lastName].filter(Boolean).join(" ")}</td>
                    <td>
                      {user.isActive ? "Active" : "Deactivated"}
                      {user.isStaff ? <span className="badge">staff</span> : null}
                    </td>
                    <td>
                      {user.id === viewerId ? null : (
                        <button
                          type="button"
                          className={user.isActive ? "danger small" : "secondary small"}
                          disabled={pending !== null}
                          onClick={() => void toggleActive(user)}
                          aria-label={`${user.isActive ? "Deactivate" : "Reactivate"} ${user.email}`}
                        >
                          {pending === user.id
                            ? "Saving…"
                            : user.isActive
                              ? "Deactivate"
                              : "Reactivate"}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
                {users.edges.length === 0 ? (
                  <tr>
                    <td colSpan={7}>No users match.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages of users">
            <button
              type="button"
              className="secondary"
              disabled={!users.pageInfo.hasPreviousPage || loading}
              onClick={() => page.setPage({ before: users.pageInfo.startCursor })}
            >
              Previous page
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!users.pageInfo.hasNextPage || loading}
              onClick={() => page.setPage({ after: users.pageInfo.endCursor })}
            >
              Next page
            </button>
          </nav>
        </>
      ) : null}
    </Page>
  );
}
