import { useQuery, useSubscription } from "@apollo/client/react";
import { useState } from "react";
import { toApiError } from "../apollo/errors";
import { Loading, Page } from "../components/Page";
import { graphql } from "../gql";
import type { AuditAction, AuditEntryFieldsFragment, AuditLogFilter } from "../gql/graphql";
import { usePagedSearchParams } from "./usePagedSearchParams";

export const AuditEntryFields = graphql(`
  fragment AuditEntryFields on AuditLog {
    id
    action
    modelName
    objectId
    changes
    ipAddress
    createdAt
    user {
      id
      email
    }
  }
`);

export const AuditLogsQuery = graphql(`
  query AuditLogs($first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter) {
    auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          ...AuditEntryFields
        }
      }
    }
  }
`);

export const AuditLogAddedSubscription = graphql(`
  subscription AuditLogAdded($filter: AuditLogFilter) {
    auditLogAdded(filter: $filter) {
      ...AuditEntryFields
    }
  }
`);

const ACTIONS: AuditAction[] = [
  "REGISTER",
  "LOGIN",
  "LOGIN_FAILED",
  "LOGOUT",
  "TOKEN_REFRESH",
  "TOKEN_REUSE_DETECTED",
  "PROFILE_UPDATE",
  "PASSWORD_CHANGE",
  "PASSWORD_RESET",
  "EMAIL_VERIFIED",
  "USER_DEACTIVATED",
  "USER_REACTIVATED",
];
const PAGE_SIZE = 50;
const MAX_LIVE = 200;
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

const label = (action: string) =>
  action.charAt(0) + action.slice(1).toLowerCase().replaceAll("_", " ");

/** The filters' values when the address has none. */
const FILTER_DEFAULTS = { action: "ALL" };

export default function AuditLogPage() {
  const page = usePagedSearchParams(FILTER_DEFAULTS);
  const action = page.get("action");
  const filter: AuditLogFilter = action === "ALL" ? {} : { actions: [action as AuditAction] };
  const before = page.get("before");
  const after = page.get("after");
  const onFirstPage = !before && !after;

  const { data, previousData, loading, error, refetch } = useQuery(AuditLogsQuery, {
    variables: {
      filter,
      ...(before ? { last: PAGE_SIZE, before } : { first: PAGE_SIZE, after: after || null }),
    },
    fetchPolicy: "cache-and-network",
  });
  const logs = (data ?? previousData)?.auditLogs;

  // Entries written since the page loaded, newest first; kept per filter.
  const [live, setLive] = useState<{ key: string; entries: AuditEntryFieldsFragment[] }>({
    key: action,
    entries: [],
  });
  const [paused, setPaused] = useState(false);
  const liveEntries = live.key === action ? live.entries : [];
  const subscription = useSubscription(AuditLogAddedSubscription, {
    variables: { filter },
    skip: paused,
    onData: ({ data: received }) => {
      const entry = received.data?.auditLogAdded;
      if (!entry) return;
      setLive((current) => {
        const entries = current.key === action ? current.entries : [];
        if (entries.some((e) => e.id === entry.id)) return current;
        return { key: action, entries: [entry, ...entries].slice(0, MAX_LIVE) };
      });
    },
  });

  const pageIds = new Set(logs?.edges.map((edge) => edge.node.id));
  const shownLive = onFirstPage ? liveEntries.filter((entry) => !pageIds.has(entry.id)) : [];

  return (
    <Page title="Audit log" width="wide">
      <div className="filters">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select
            id="audit-action"
            value={action}
            onChange={(event) => page.setFilter("action", event.target.value)}
          >
            <option value="ALL">All actions</option>
            {ACTIONS.map((value) => (
              <option key={value} value={value}>
                {label(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="live-status">
          <p role="status">
            {paused
              ? "Live updates are paused."
              : subscription.error
                ? `Live updates are unavailable: ${toApiError(subscription.error).message}`
                : "Live: new entries appear at the top."}
          </p>
          <button type="button" className="secondary small" onClick={() => setPaused((p) => !p)}>
            {paused ? "Resume live updates" : "Pause live updates"}
          </button>
        </div>
      </div>

      {error ? (
        <div className="alert alert--error" role="alert">
          <p>{toApiError(error).message}</p>
          <button type="button" onClick={() => void refetch().catch(() => undefined)}>
            Try again
          </button>
        </div>
      ) : null}
      {!logs && loading ? <Loading /> : null}
      {logs ? (
        <>
          <p className="result-count">
            {logs.totalCount + shownLive.length} entries
            {shownLive.length ? ` (${shownLive.length} new)` : ""}
          </p>
          <div className="table-scroll">
            <table className="data-table" aria-busy={loading}>
              <caption className="visually-hidden">Audit log entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">User</th>
                  <th scope="col">Object</th>
                  <th scope="col">IP address</th>
                  <th scope="col">Changes</th>
                </tr>
              </thead>
              <tbody>
                {shownLive.map((entry) => (
                  <AuditRow key={entry.id} entry={entry} fresh />
                ))}
                {logs.edges.map(({ node }) => (
                  <AuditRow key={node.id} entry={node} />
                ))}
                {logs.edges.length + shownLive.length === 0 ? (
                  <tr>
                    <td colSpan={6}>No entries.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages of the audit log">
            <button
              type="button"
              className="secondary"
              disabled={!logs.pageInfo.hasPreviousPage || loading}
              onClick={() => page.setPage({ before: logs.pageInfo.startCursor })}
            >
              Newer
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!logs.pageInfo.hasNextPage || loading}
              onClick={() => page.setPage({ after: logs.pageInfo.endCursor })}
            >
              Older
            </button>
          </nav>
        </>
      ) : null}
    </Page>
  );
}

function AuditRow({ entry, fresh = false }: { entry: AuditEntryFieldsFragment; fresh?: boolean }) {
  const changes = JSON.stringify(entry.changes);
  return (
    <tr className={fresh ? "row--fresh" : undefined}>
      <td>
        <time dateTime={entry.createdAt}>{dateTime.format(new Date(entry.createdAt))}</time>
        {fresh ? <span className="badge">new</span> : null}
      </td>
      <td>{label(entry.action)}</td>
      <td>{entry.user?.email ?? <span className="muted">none</span>}</td>
      <td>
        {entry.modelName}
        {entry.objectId ? <span className="muted"> {entry.objectId.slice(0, 8)}</span> : null}
      </td>
      <td>{entry.ipAddress ?? ""}</td>
      <td>{changes === "{}" ? null : <code className="changes">{changes}</code>}</td>
    </tr>
  );
}
