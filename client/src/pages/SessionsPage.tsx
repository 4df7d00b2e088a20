import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { useNavigate } from "react-router";
import { toApiError } from "../apollo/errors";
import { useAuth } from "../auth/AuthContext";
import { Loading, Page } from "../components/Page";
import { graphql } from "../gql";

export const MySessionsQuery = graphql(`
  query MySessions {
    me {
      id
      sessions {
        id
        createdAt
        lastUsedAt
        expiresAt
        userAgent
        ipAddress
        current
      }
    }
  }
`);

export const RevokeSessionMutation = graphql(`
  mutation RevokeSession($id: ID!) {
    revokeSession(id: $id)
  }
`);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Names by user agent pattern; the first that matches wins, so order matters (Edge's
 * user agent also says Chrome and Safari, Chrome's Safari, iOS's Mac OS X, Android's Linux). */
type AgentNames = readonly (readonly [RegExp, string])[];

const BROWSERS: AgentNames = [
  [/Edg\//, "Edge"],
  [/Firefox\//, "Firefox"],
  [/Chrome\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: AgentNames = [
  [/Android/, "Android"],
  [/iPhone|iPad/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X/, "macOS"],
  [/Linux/, "Linux"],
];

function firstMatch(agent: string, names: AgentNames): string | null {
  return names.find(([pattern]) => pattern.test(agent))?.[1] ?? null;
}

/** "Firefox on Linux"-ish, from a user agent string; the raw string otherwise. */
export function describeAgent(agent: string | null): string {
  if (!agent) return "Unknown device";
  const browser = firstMatch(agent, BROWSERS);
  const os = firstMatch(agent, SYSTEMS);
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? agent.slice(0, 60);
}

export function SessionsPage() {
  const { app } = useAuth();
  const navigate = useNavigate();
  const { data, loading, error, refetch } = useQuery(MySessionsQuery, {
    fetchPolicy: "cache-and-network",
  });
  const [revoke] = useMutation(RevokeSessionMutation);
  const [pending, setPending] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);

  async function onRevoke(id: string) {
    setPending(id);
    setMessage(null);
    try {
      await revoke({
        variables: { id },
        update(cache) {
          cache.evict({ id: cache.identify({ __typename: "Session", id }) });
          cache.gc();
        },
      });
      setMessage({ kind: "success", text: "That device has been signed out." });
    } catch (thrown) {
      setMessage({ kind: "error", text: toApiError(thrown).message });
    } finally {
      setPending(null);
    }
  }

  async function onSignOutEverywhere() {
    if (!window.confirm("Sign out on every device, including this one?")) return;
    setPending("everywhere");
    setMessage(null);
    try {
      await app.signOut({ everywhere: true });
      navigate("/sign-in", { replace: true });
    } catch (thrown) {
      setMessage({
        kind: "error",
        text: `Nothing was signed out: ${toApiError(thrown).message}`,
      });
      setPending(null);
    }
  }

  const sessions = data?.me?.sessions ?? [];
  return (
    <Page title="Where you're signed in">
      {message ? (
        <p
          className={`alert alert--${message.kind}`}
          role={message.kind === "error" ? "alert" : "status"}
        >
          {message.text}
        </p>
      ) : null}
      {loading && !data ? <Loading /> : null}
      {error && !data ? (
        <div className="alert alert--error" role="alert">
          <p>{toApiError(error).message}</p>
          <button type="button" onClick={() => void refetch().catch(() => undefined)}>
            Try again
          </button>
        </div>
      ) : null}
      {data ? (
        <ul className="session-list">
          {sessions.map((session) => (
            <li key={session.id} className="card">
              <h2 className="card__title">
                {describeAgent(session.userAgent)}
                {session.current ? <span className="badge">this device</span> : null}
              </h2>
              <dl className="details details--compact">
                <dt>Signed in</dt>
                <dd>{dateTime.format(new Date(session.createdAt))}</dd>
                <dt>Last active</dt>
                <dd>{dateTime.format(new Date(session.lastUsedAt))}</dd>
                <dt>IP address</dt>
                <dd>{session.ipAddress ?? "unknown"}</dd>
              </dl>
              {session.current ? null : (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => void onRevoke(session.id)}
                  disabled={pending !== null}
                  aria-label={`Sign out ${describeAgent(session.userAgent)}, last active ${dateTime.format(new Date(session.lastUsedAt))}`}
                >
                  {pending === session.id ? "Signing out…" : "Sign out this device"}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <section aria-labelledby="everywhere-heading" className="danger-zone">
        <h2 id="everywhere-heading">Sign out everywhere</h2>
        <p>Ends every session of your account, on all devices, this one included.</p>
        <button
          type="button"
          className="danger"
          onClick={() => void onSignOutEverywhere()}
          disabled={pending !== null}
        >
          {pending === "everywhere" ? "Signing out…" : "Sign out everywhere"}
        </button>
      </section>
    </Page>
  );
}
