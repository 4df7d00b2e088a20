import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import type { GraphQLFormattedError } from "graphql";

/** The contract's extensions.code values (see api-contract.graphql). */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "PERSISTED_QUERY_NOT_FOUND"
  | "GRAPHQL_VALIDATION_FAILED"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export type FieldErrors = Record<string, string[]>;

/** What the UI needs to know about a failed operation. */
export interface ApiError {
  /** extensions.code of the first error that has one; "NETWORK" when nothing answered. */
  code: ErrorCode | "NETWORK" | "UNKNOWN";
  /** A sentence fit to show to the user. */
  message: string;
  /** BAD_USER_INPUT's extensions.fields, merged over all errors. */
  fields: FieldErrors;
  /** RATE_LIMITED's extensions.retryAfter, in seconds. */
  retryAfter: number | null;
}

const GENERIC = {
  NETWORK: "Can't reach the server. Check your connection and try again.",
  INTERNAL_SERVER_ERROR: "Something went wrong on our side. Please try again.",
  SERVICE_UNAVAILABLE: "The service is temporarily unavailable. Please try again shortly.",
  GRAPHQL_VALIDATION_FAILED: "This version of the app does not match the server. Reload the page.",
  UNKNOWN: "Something went wrong. Please try again.",
} satisfies Partial<Record<ApiError["code"], string>>;

/** The generic sentence for `code`, when it has one (the server's text is shown otherwise). */
function genericMessage(code: ApiError["code"]): string | undefined {
  const messages: Partial<Record<ApiError["code"], string>> = GENERIC;
  return messages[code];
}

export function errorCodes(errors: readonly GraphQLFormattedError[] | undefined): string[] {
  return (errors ?? []).map((e) => String(e.extensions?.code ?? ""));
}

export function hasErrorCode(
  errors: readonly GraphQLFormattedError[] | undefined,
  code: ErrorCode,
): boolean {
  return errorCodes(errors).includes(code);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function fromGraphQLErrors(errors: readonly GraphQLFormattedError[]): ApiError {
  const fields: FieldErrors = {};
  let retryAfter: number | null = null;
  let first: GraphQLFormattedError | undefined;
  for (const error of errors) {
    const extensions = error.extensions ?? {};
    if (!first && typeof extensions.code === "string") first = error;
    const reported = extensions.fields;
    if (reported && typeof reported === "object") {
      for (const [name, messages] of Object.entries(reported)) {
        if (isStringArray(messages)) fields[name] = [...(fields[name] ?? []), ...messages];
      }
    }
    const wait = Number(extensions.retryAfter);
    if (extensions.code === "RATE_LIMITED" && Number.isFinite(wait)) {
      retryAfter = Math.max(retryAfter ?? 0, Math.ceil(wait));
    }
  }
  first ??= errors[0];
  const code = (typeof first?.extensions?.code === "string" ? first.extensions.code : "UNKNOWN") as
    | ErrorCode
    | "UNKNOWN";
  const message = genericMessage(code) ?? first?.message ?? GENERIC.UNKNOWN;
  return { code, message, fields, retryAfter };
}

function parseBody(bodyText: string): readonly GraphQLFormattedError[] | null {
  try {
    const body: unknown = JSON.parse(bodyText);
    if (body && typeof body === "object" && Array.isArray((body as { errors?: unknown }).errors)) {
      return (body as { errors: GraphQLFormattedError[] }).errors;
    }
  } catch {
    // not JSON: a proxy's error page
  }
  return null;
}

/** Normalise anything an Apollo operation can fail with. */
export function toApiError(error: unknown): ApiError {
  if (CombinedGraphQLErrors.is(error)) return fromGraphQLErrors(error.errors);
  if (ServerError.is(error)) {
    // Non-2xx answers that are not GraphQL responses, e.g. the per-IP budget's 429.
    const errors = parseBody(error.bodyText);
    if (errors?.length) {
      const parsed = fromGraphQLErrors(errors);
      if (parsed.code === "RATE_LIMITED" && parsed.retryAfter === null) {
        const header = Number(error.response.headers.get("retry-after"));
        if (Number.isFinite(header)) parsed.retryAfter = header;
      }
      return parsed;
    }
    const code = error.statusCode >= 500 ? "INTERNAL_SERVER_ERROR" : "UNKNOWN";
    return { code, message: GENERIC[code], fields: {}, retryAfter: null };
  }
  return { code: "NETWORK", message: GENERIC.NETWORK, fields: {}, retryAfter: null };
}

/** "1 minute 30 seconds" */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.ceil(totalSeconds));
  const parts: string[] = [];
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (hours) parts.push(unit(hours, "hour"));
  if (minutes) parts.push(unit(minutes, "minute"));
  if (rest || parts.length === 0) parts.push(unit(rest, "second"));
  return parts.join(" ");
}
