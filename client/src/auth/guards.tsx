import { useQuery } from "@apollo/client/react";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading, Page } from "../components/Page";
import { useAuth } from "./AuthContext";
import { ViewerQuery } from "./operations";

export interface SignInState {
  /** Where to go after signing in. */
  from?: string;
}

/** Pages for signed-in users; others are sent to sign in, and brought back after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, app } = useAuth();
  const location = useLocation();
  if (status === "loading") return <Loading label="Checking your session…" />;
  if (status === "unreachable") {
    return (
      <Page title="Can't reach GlassShop">
        <p className="alert alert--error" role="alert">
          We couldn't check whether you are signed in because the server can't be reached.
        </p>
        <button type="button" onClick={() => void app.session.refresh().catch(() => undefined)}>
          Try again
        </button>
      </Page>
    );
  }
  if (status === "signedOut") {
    const state: SignInState = { from: location.pathname + location.search };
    return <Navigate to="/sign-in" replace state={state} />;
  }
  return <>{children}</>;
}

/** Staff pages: FORBIDDEN for everyone else (the API checks again). */
export function RequireStaff({ children }: { children: ReactNode }) {
  return (
    <RequireAuth>
      <StaffOnly>{children}</StaffOnly>
    </RequireAuth>
  );
}

function StaffOnly({ children }: { children: ReactNode }) {
  const { data, loading } = useQuery(ViewerQuery);
  if (loading && !data) return <Loading />;
  if (!data?.me?.isStaff) {
    return (
      <Page title="Staff only">
        <p>This page is for GlassShop staff.</p>
      </Page>
    );
  }
  return <>{children}</>;
}

/** Sign-in and sign-up: a signed-in user goes where they were headed instead. */
export function RedirectIfSignedIn({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  const from = (location.state as SignInState | null)?.from;
  if (status === "loading") return <Loading label="Checking your session…" />;
  if (status === "signedIn") return <Navigate to={from ?? "/profile"} replace />;
  return <>{children}</>;
}
