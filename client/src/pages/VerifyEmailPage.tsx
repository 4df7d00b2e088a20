import { useMutation } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { type ApiError, toApiError } from "../apollo/errors";
import { useAuth } from "../auth/AuthContext";
import { Loading, Page } from "../components/Page";
import { graphql } from "../gql";
import { useTokenFromUrl } from "./useTokenFromUrl";

export const VerifyEmailMutation = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      id
      email
      emailVerified
    }
  }
`);

export function VerifyEmailPage() {
  const token = useTokenFromUrl();
  const { status } = useAuth();
  const [verify] = useMutation(VerifyEmailMutation);
  const [result, setResult] = useState<{ email: string } | ApiError | null>(null);
  const sent = useRef(false);

  useEffect(() => {
    // A link works once: never send it twice (React's strict mode runs effects twice).
    if (!token || sent.current) return;
    sent.current = true;
    verify({ variables: { token } }).then(
      ({ data }) => setResult({ email: data?.verifyEmail.email ?? "" }),
      (thrown: unknown) => setResult(toApiError(thrown)),
    );
  }, [token, verify]);

  const next =
    status === "signedIn" ? (
      <Link to="/profile">Go to your profile</Link>
    ) : (
      <Link to="/sign-in">Sign in</Link>
    );

  if (!token) {
    return (
      <Page title="Verify your email">
        <p className="alert alert--error" role="alert">
          This link is incomplete. Open the link from the email again, or ask for a new one on your
          profile page.
        </p>
        <p>{next}</p>
      </Page>
    );
  }
  if (result === null) {
    return (
      <Page title="Verify your email">
        <Loading label="Verifying your email address…" />
      </Page>
    );
  }
  if ("email" in result) {
    return (
      <Page title="Email verified">
        <p className="alert alert--success" role="status">
          Thank you: <strong>{result.email}</strong> is verified.
        </p>
        <p>{next}</p>
      </Page>
    );
  }
  return (
    <Page title="Verify your email">
      <div className="alert alert--error" role="alert">
        <p>{result.fields.token?.[0] ?? result.message}</p>
      </div>
      <p>
        {status === "signedIn" ? (
          <Link to="/profile">Ask for a new link on your profile</Link>
        ) : (
          <>
            <Link to="/sign-in">Sign in</Link> to ask for a new link.
          </>
        )}
      </p>
    </Page>
  );
}
