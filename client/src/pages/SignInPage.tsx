import { useMutation } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { LoginMutation } from "../auth/operations";
import type { SignOutReason } from "../auth/session";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { Page } from "../components/Page";
import { required, useApiForm } from "../components/useApiForm";

const FIELDS = ["email", "password"] as const;

const REASONS: Partial<Record<SignOutReason, string>> = {
  user: "You have signed out.",
  expired: "Your session has ended. Please sign in again.",
  "other-tab": "You signed out in another tab.",
};

export function SignInPage() {
  const { app, signOutReason } = useAuth();
  const [login, { loading }] = useMutation(LoginMutation);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const form = useApiForm();
  const notice = signOutReason ? REASONS[signOutReason] : undefined;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!form.check({ email: required(email), password: required(password) })) return;
    form.clear();
    try {
      const { data } = await login({ variables: { input: { email: email.trim(), password } } });
      // Signed in: the guard around this page takes the user where they were going.
      if (data) await app.signIn(data.login);
    } catch (thrown) {
      form.fail(thrown);
      setPassword("");
    }
  }

  return (
    <Page title="Sign in">
      {notice && !form.error ? (
        <p className="alert alert--info" role="status">
          {notice}
        </p>
      ) : null}
      <form ref={form.formRef} onSubmit={onSubmit} noValidate aria-busy={loading}>
        <FormAlert ref={form.alertRef} error={form.error} fields={FIELDS} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          inputMode="email"
          spellCheck={false}
          required
          value={email}
          onChange={setEmail}
          errors={form.fieldErrors("email")}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
          errors={form.fieldErrors("password")}
        />
        <div className="actions">
          <button type="submit" disabled={loading}>
            {loading ? "Signing in…" : "Sign in"}
          </button>
          <Link to="/forgot-password">Forgot your password?</Link>
        </div>
      </form>
      <p>
        New to GlassShop? <Link to="/sign-up">Create an account</Link>
      </p>
    </Page>
  );
}
