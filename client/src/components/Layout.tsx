import { useQuery } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { toApiError } from "../apollo/errors";
import { useAuth } from "../auth/AuthContext";
import { ViewerQuery } from "../auth/operations";

/** Header, navigation and <main>; moves focus to the page's heading on navigation. */
export function Layout() {
  const location = useLocation();
  const first = useRef(true);
  // Runs on each navigation: a new pathname is the trigger, though the effect does not read it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the pathname is the trigger
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.querySelector<HTMLElement>("#main h1")?.focus();
  }, [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

function Header() {
  const { status, app } = useAuth();
  const navigate = useNavigate();
  const signedIn = status === "signedIn";
  const { data } = useQuery(ViewerQuery, { skip: !signedIn });
  const viewer = signedIn ? data?.me : null;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      await app.signOut();
      navigate("/sign-in", { replace: true });
    } catch (thrown) {
      setError(`You are still signed in: ${toApiError(thrown).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link to="/" className="brand">
          GlassShop
        </Link>
        <nav aria-label="Main">
          <ul>
            {signedIn ? (
              <>
                <li>
                  <NavLink to="/profile">Profile</NavLink>
                </li>
                <li>
                  <NavLink to="/account/password">Password</NavLink>
                </li>
                <li>
                  <NavLink to="/account/sessions">Sessions</NavLink>
                </li>
                {viewer?.isStaff ? (
                  <>
                    <li>
                      <NavLink to="/staff/users">Users</NavLink>
                    </li>
                    <li>
                      <NavLink to="/staff/audit">Audit log</NavLink>
                    </li>
                  </>
                ) : null}
                <li>
                  <button type="button" className="link-button" onClick={signOut} disabled={busy}>
                    {busy ? "Signing out…" : "Sign out"}
                  </button>
                </li>
              </>
            ) : status === "loading" ? null : (
              <>
                <li>
                  <NavLink to="/sign-in">Sign in</NavLink>
                </li>
                <li>
                  <NavLink to="/sign-up">Create account</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
        {viewer ? (
          <p className="signed-in-as">
            Signed in as <strong>{viewer.email}</strong>
          </p>
        ) : null}
      </div>
      {error ? (
        <p className="alert alert--error header-alert" role="alert">
          {error}
        </p>
      ) : null}
    </header>
  );
}
