import { forwardRef } from "react";
import type { ApiError } from "../apollo/errors";
import { RateLimitNotice } from "./RateLimitNotice";

interface Props {
  error: ApiError | null;
  /** Fields the form shows next to their inputs; others are listed here. */
  fields?: readonly string[];
}

/** The form-level error: rate limits, the message, and field errors no input shows. */
export const FormAlert = forwardRef<HTMLDivElement, Props>(function FormAlert(
  { error, fields = [] },
  ref,
) {
  if (!error) return null;
  if (error.code === "RATE_LIMITED" && error.retryAfter !== null) {
    return (
      <div ref={ref} tabIndex={-1} className="form-alert">
        <RateLimitNotice
          key={`${error.retryAfter}-${error.message}`}
          retryAfter={error.retryAfter}
        />
      </div>
    );
  }
  const shown = new Set(fields);
  const other = Object.entries(error.fields).filter(([name]) => !shown.has(name));
  const fieldsOnly = error.code === "BAD_USER_INPUT" && other.length === 0;
  return (
    <div ref={ref} tabIndex={-1} className="form-alert alert alert--error" role="alert">
      <p>{fieldsOnly ? "Please correct the fields marked below." : error.message}</p>
      {other.length ? (
        <ul>
          {other.flatMap(([name, messages]) =>
            messages.map((message) => <li key={`${name}:${message}`}>{message}</li>),
          )}
        </ul>
      ) : null}
    </div>
  );
});
