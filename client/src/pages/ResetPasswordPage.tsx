import { useMutation } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { FormAlert } from "../components/FormAlert";
import { NewPasswordFields } from "../components/NewPasswordFields";
import { Page } from "../components/Page";
import { required, useApiForm } from "../components/useApiForm";
import { graphql } from "../gql";
import { useTokenFromUrl } from "./useTokenFromUrl";

export const ResetPasswordMutation = graphql(`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword)
  }
`);

export function ResetPasswordPage() {
  const token = useTokenFromUrl();
  const { app, status } = useAuth();
  const [reset, { loading }] = useMutation(ResetPasswordMutation);
  const [values, setValues] = useState({ newPassword: "", confirm: "" });
  const [done, setDone] = useState(false);
  const form = useApiForm();
  const set = (name: keyof typeof values) => (value: string) =>
    setValues((current) => ({ ...current, [name]: value }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!token) return;
    const ok = form.check({
      newPassword: required(values.newPassword),
      confirm: values.confirm === values.newPassword ? [] : ["The two passwords are not the same."],
    });
    if (!ok) return;
    form.clear();
    try {
      await reset({ variables: { token, newPassword: values.newPassword } });
      // The API ended every session of the account, this tab's (if any) included.
      if (status === "signedIn") await app.session.signOut("user");
      setDone(true);
    } catch (thrown) {
      form.fail(thrown);
    }
  }

  if (!token) {
    return (
      <Page title="Choose a new password">
        <p className="alert alert--error" role="alert">
          This link is incomplete. Open the link from the email again, or ask for a new one.
        </p>
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      </Page>
    );
  }
  if (done) {
    return (
      <Page title="Password changed">
        <p className="alert alert--success" role="status">
          Your password has been changed, and every device signed in to your account has been signed
          out.
        </p>
        <p>
          <Link to="/sign-in">Sign in with your new password</Link>
        </p>
      </Page>
    );
  }
  const tokenProblem = form.fieldErrors("token");
  return (
    <Page title="Choose a new password">
      <form ref={form.formRef} onSubmit={onSubmit} noValidate aria-busy={loading}>
        <FormAlert ref={form.alertRef} error={form.error} fields={["newPassword", "confirm"]} />
        {tokenProblem ? (
          <p>
            <Link to="/forgot-password">Ask for a new link</Link>
          </p>
        ) : null}
        <NewPasswordFields
          newPassword={values.newPassword}
          confirm={values.confirm}
          onChange={set}
          errors={form.fieldErrors}
        />
        <div className="actions">
          <button type="submit" disabled={loading}>
            {loading ? "Saving…" : "Set new password"}
          </button>
        </div>
      </form>
    </Page>
  );
}
