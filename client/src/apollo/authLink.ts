import { ApolloLink } from "@apollo/client/link";
import { Observable, type Subscription } from "rxjs";
import type { AuthSession } from "../auth/session";
import { hasErrorCode } from "./errors";

/** Operations that carry no access token and are never retried: they are how one gets
 * a token (an UNAUTHENTICATED login means a wrong password, not an expired token). */
export const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set(["Login", "Register", "Refresh"]);
/** Operations that carry the access token but are not retried after a refresh. */
export const NO_RETRY_OPERATIONS: ReadonlySet<string> = new Set(["Logout"]);

declare module "@apollo/client" {
  interface DefaultContext {
    /** Send no access token and never refresh for this operation. */
    skipAuth?: boolean;
    headers?: Record<string, string>;
  }
}

/**
 * Adds `Authorization: Bearer <token>` and, when the API answers UNAUTHENTICATED, gets
 * a new access token with the refresh cookie and retries the operation once. Requests
 * that fail while a refresh is in flight wait for that refresh: there is only ever one.
 * When the refresh is refused the session signs out and the UNAUTHENTICATED result is
 * passed on; when the API cannot be reached the network error is.
 */
export function createAuthLink(session: AuthSession): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const name = operation.operationName ?? "";
    if (operation.getContext().skipAuth || PUBLIC_OPERATIONS.has(name)) {
      return forward(operation);
    }
    const retry = !NO_RETRY_OPERATIONS.has(name);

    return new Observable<ApolloLink.Result>((observer) => {
      let subscription: Subscription | null = null;
      let closed = false;

      const send = (retried: boolean) => {
        const token = session.accessToken;
        operation.setContext(({ headers }) => {
          const next: Record<string, string> = { ...headers };
          if (token) next.authorization = `Bearer ${token}`;
          else delete next.authorization;
          return { headers: next };
        });
        let waiting = false;
        subscription = forward(operation).subscribe({
          next(result) {
            if (!retried && retry && hasErrorCode(result.errors, "UNAUTHENTICATED")) {
              waiting = true;
              session.refreshAfterRejection(token).then(
                (signedIn) => {
                  if (closed) return;
                  if (signedIn) {
                    send(true);
                  } else {
                    observer.next(result);
                    observer.complete();
                  }
                },
                (error: unknown) => {
                  if (!closed) observer.error(error);
                },
              );
              return;
            }
            observer.next(result);
          },
          error(error) {
            observer.error(error);
          },
          complete() {
            if (!waiting) observer.complete();
          },
        });
      };

      // A refresh in flight (the one on load, or another request's) is waited for, so
      // that this request goes out with the new token rather than fail and queue.
      const pending = session.pending;
      if (pending) {
        pending
          .catch(() => false)
          .then(() => {
            if (!closed) send(false);
          });
      } else {
        send(false);
      }

      return () => {
        closed = true;
        subscription?.unsubscribe();
      };
    });
  });
}
