import { useMutation } from "@apollo/client/react";
import { type FormEvent, useState } from "react";
import { Field } from "../components/Field";
import { FormAlert } from "../components/FormAlert";
import { NewPasswordFields } from "../components/NewPasswordFields";
import { Page } from "../components/Page";
import { required, useApiForm } from "../components/useApiForm";
import { graphql } from "../gql";

export const ChangePasswordMutation = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input)
  }
`);

const FIELDS = ["currentPassword", "newPassword", "confirm"] as const;

export function ChangePasswordPage() {
  const [change, { loading }] = useMutation(ChangePasswordMutation);
  const [values, setValues] = useState({ currentPassword: "", newPassword: "", confirm: "" });
  const [done, setDone] = useState(false);
  const form = useApiForm();
  const set = (name: keyof typeof values) => (value: string) => {
    setDone(false);
    setValues((current) => ({ ...current, [name]: value }));
  };

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setDone(false);
    const ok = form.check({
      currentPassword: required(values.currentPassword),
      newPassword: required(values.newPassword),
      confirm:
        values.confirm === values.newPassword ? [] : ["The two new passwords are not the same."],
    });
    if (!ok) return;
    form.clear();
    try {
      await change({
        variables: {
          input: { currentPassword: values.currentPassword, newPassword: values.newPassword },
        },
      });
      setValues({ currentPassword: "", newPassword: "", confirm: "" });
      setDone(true);
    } catch (thrown) {
      form.fail(thrown);
    }
  }

  return (
    <Page title="Change your password">
      <p role="status" className={done ? "alert alert--success" : "visually-hidden"}>
        {done
          ? "Your password is changed. Your other devices have been signed out; this one stays signed in."
          : ""}
      </p>
      <form ref={form.formRef} onSubmit={onSubmit} noValidate aria-busy={loading}>
        <FormAlert ref={form.alertRef} error={form.error} fields={FIELDS} />
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          value={values.currentPassword}
          onChange={set("currentPassword")}
          errors={form.fieldErrors("currentPassword")}
        />
        <NewPasswordFields
          newPassword={values.newPassword}
          confirm={values.confirm}
          onChange={set}
          errors={form.fieldErrors}
        />
        <div className="actions">
          <button type="submit" disabled={loading}>
            {loading ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </Page>
  );
}
