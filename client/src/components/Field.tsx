import { type ChangeEvent, type ReactNode, type Ref, useId } from "react";

interface CommonProps {
  label: ReactNode;
  name: string;
  value: string;
  onChange: (value: string) => void;
  /** Messages for this field (extensions.fields[name] or a client-side check). */
  errors?: readonly string[];
  hint?: ReactNode;
  required?: boolean;
  autoComplete?: string;
  inputRef?: Ref<HTMLInputElement & HTMLTextAreaElement>;
  disabled?: boolean;
}

interface InputProps extends CommonProps {
  type?: "text" | "email" | "password" | "tel" | "url" | "search";
  multiline?: false;
  inputMode?: "text" | "email" | "tel" | "url";
  spellCheck?: boolean;
}

interface TextareaProps extends CommonProps {
  multiline: true;
  rows?: number;
  spellCheck?: boolean;
}

/** A labelled input whose hint and errors are tied to it with aria-describedby. */
export function Field(props: InputProps | TextareaProps) {
  const id = useId();
  const { label, name, value, onChange, errors, hint, required, autoComplete, inputRef, disabled } =
    props;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors?.length ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  const shared = {
    id,
    name,
    value,
    required,
    disabled,
    autoComplete,
    ref: inputRef,
    "aria-invalid": errors?.length ? true : undefined,
    "aria-describedby": describedBy,
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      onChange(event.target.value),
  };
  return (
    <div className={errors?.length ? "field field--invalid" : "field"}>
      <label htmlFor={id}>
        {label}
        {required ? <span className="required"> (required)</span> : null}
      </label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {props.multiline ? (
        <textarea {...shared} rows={props.rows ?? 4} spellCheck={props.spellCheck} />
      ) : (
        <input
          {...shared}
          type={props.type ?? "text"}
          inputMode={props.inputMode}
          spellCheck={props.spellCheck}
        />
      )}
      {errors?.length ? (
        <ul className="field-errors" id={errorId}>
          {errors.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
