import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, type FieldErrors, toApiError } from "../apollo/errors";

/**
 * Error state of a form, and where focus goes when it fails: to the first field marked
 * invalid, else to the form's alert.
 */
export function useApiForm() {
  const [error, setErrorState] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);
  const alertRef = useRef<HTMLDivElement>(null);

  // `attempt` is a dependency so that every failed submit moves focus, even with an equal error.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the trigger
  useEffect(() => {
    if (!error) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    const target = error.code === "RATE_LIMITED" ? alertRef.current : (invalid ?? alertRef.current);
    target?.focus();
  }, [error, attempt]);

  const setError = useCallback((next: ApiError | null) => {
    setErrorState(next);
    setAttempt((n) => n + 1);
  }, []);

  /** Show a failed operation. */
  const fail = useCallback((thrown: unknown) => setError(toApiError(thrown)), [setError]);

  /** Show client-side problems, in the API's shape; true when there were none. */
  const check = useCallback(
    (fields: FieldErrors): boolean => {
      const problems = Object.fromEntries(Object.entries(fields).filter(([, m]) => m.length));
      if (Object.keys(problems).length === 0) return true;
      setError({ code: "BAD_USER_INPUT", message: "", fields: problems, retryAfter: null });
      return false;
    },
    [setError],
  );

  return {
    error,
    setError,
    fail,
    check,
    clear: () => setErrorState(null),
    formRef,
    alertRef,
    fieldErrors: (name: string): string[] | undefined => error?.fields[name],
  };
}

export function required(value: string, message = "This field is required."): string[] {
  return value.trim() ? [] : [message];
}
