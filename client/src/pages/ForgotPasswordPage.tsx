import { useMutation } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { Page } from "../components/Page";
import { required, useApiForm } from "../components/useApiForm";
import { graphql } from "../gql";

export const RequestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export function ForgotPasswordPage() {
  const [request, { loading }] = useMutation(RequestPasswordResetMutation);
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useApiForm();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!form.check({ email: required(email) })) return;
    form.clear();
    try {
      await request({ variables: { email: email.trim() } });
      setSentTo(email.trim());
    } catch (thrown) {
      form.fail(thrown);
    }
  }

  if (sentTo) {
    return (
      <Page title="Check your email">
        <p className="alert alert--success" role="status">
          If an account exists for <strong>{sentTo}</strong>, we have sent it a link to choose a new
          password. The link works for one hour.
        </p>
        <p>
          <Link to="/sign-in">Back to sign in</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Forgot your password?">
      <p>Enter the email address of your account and we'll send you a link to reset it.</p>
      <form ref={form.formRef} onSubmit={onSubmit} noValidate aria-busy={loading}>
        <FormAlert ref={form.alertRef} error={form.error} fields={["email"]} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          spellCheck={false}
          required
          value={email}
          onChange={setEmail}
          errors={form.fieldErrors("email")}
        />
        <div className="actions">
          <button type="submit" disabled={loading}>
            {loading ? "Sending…" : "Send reset link"}
          </button>
          <Link to="/sign-in">Back to sign in</Link>
        </div>
      </form>
    </Page>
  );
}
