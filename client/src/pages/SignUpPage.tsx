import { useMutation } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { toApiError } from "../apollo/errors";
import { useAuth } from "../auth/AuthContext";
import { RegisterMutation } from "../auth/operations";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { Page } from "../components/Page";
import { required, useApiForm } from "../components/useApiForm";

const FIELDS = ["email", "password", "username", "firstName", "lastName"] as const;
export const PASSWORD_HINT = "At least 8 characters. A long passphrase is best.";

export function SignUpPage() {
  const { app } = useAuth();
  const [register, { loading }] = useMutation(RegisterMutation);
  const [values, setValues] = useState({
    email: "",
    password: "",
    confirm: "",
    username: "",
    firstName: "",
    lastName: "",
  });
  const form = useApiForm();
  const set = (name: keyof typeof values) => (value: string) =>
    setValues((current) => ({ ...current, [name]: value }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const ok = form.check({
      email: required(values.email),
      password: required(values.password),
      confirm: values.confirm === values.password ? [] : ["The two passwords are not the same."],
    });
    if (!ok) return;
    form.clear();
    const optional = (value: string) => (value.trim() ? value.trim() : null);
    try {
      const { data } = await register({
        variables: {
          input: {
            email: values.email.trim(),
            password: values.password,
            username: optional(values.username),
            firstName: optional(values.firstName),
            lastName: optional(values.lastName),
          },
        },
      });
      if (data) await app.signIn(data.register);
    } catch (thrown) {
      const error = toApiError(thrown);
      if (error.code === "CONFLICT") {
        // A taken email or username: say so next to the field.
        const field = /username/i.test(error.message) ? "username" : "email";
        error.fields = { [field]: [error.message] };
      }
      form.setError(error);
    }
  }

  return (
    <Page title="Create your account">
      <form ref={form.formRef} onSubmit={onSubmit} noValidate aria-busy={loading}>
        <FormAlert ref={form.alertRef} error={form.error} fields={[...FIELDS, "confirm"]} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          spellCheck={false}
          required
          value={values.email}
          onChange={set("email")}
          errors={form.fieldErrors("email")}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint={PASSWORD_HINT}
          value={values.password}
          onChange={set("password")}
          errors={form.fieldErrors("password")}
        />
        <Field
          label="Repeat the password"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          value={values.confirm}
          onChange={set("confirm")}
          errors={form.fieldErrors("confirm")}
        />
        <fieldset>
          <legend>About you (optional)</legend>
          <Field
            label="Username"
            name="username"
            autoComplete="username"
            spellCheck={false}
            hint="3 to 150 letters, digits, dots, dashes or underscores. We pick one if you don't."
            value={values.username}
            onChange={set("username")}
            errors={form.fieldErrors("username")}
          />
          <Field
            label="First name"
            name="firstName"
            autoComplete="given-name"
            value={values.firstName}
            onChange={set("firstName")}
            errors={form.fieldErrors("firstName")}
          />
          <Field
            label="Last name"
            name="lastName"
            autoComplete="family-name"
            value={values.lastName}
            onChange={set("lastName")}
            errors={form.fieldErrors("lastName")}
          />
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={loading}>
            {loading ? "Creating your account…" : "Create account"}
          </button>
        </div>
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </Page>
  );
}
