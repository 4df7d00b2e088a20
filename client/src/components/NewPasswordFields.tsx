import { PASSWORD_HINT } from "../pages/SignUpPage";
import { Field } from "./Field";

type Props = {
  newPassword: string;
  confirm: string;
  onChange: (name: "newPassword" | "confirm") => (value: string) => void;
  errors: (name: string) => string[] | undefined;
};

/** A new password and its repetition: shared by the change and reset pages. */
export function NewPasswordFields({ newPassword, confirm, onChange, errors }: Props) {
  return (
    <>
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        hint={PASSWORD_HINT}
        value={newPassword}
        onChange={onChange("newPassword")}
        errors={errors("newPassword")}
      />
      <Field
        label="Repeat the new password"
        name="confirm"
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={onChange("confirm")}
        errors={errors("confirm")}
      />
    </>
  );
}
