/**
 * A fake of the API at its HTTP boundary: a `fetch` that answers GraphQL requests by
 * operation name, the way the real server answers (status codes, media types, error
 * extensions). Tests give Apollo Client this fetch; everything above it is real.
 */
import type { GraphQLFormattedError } from "graphql";
import type { AuthPayloadFieldsFragment, ViewerFieldsFragment } from "../gql/graphql";

export interface FakeRequest {
  operationName: string;
  variables: Record<string, unknown>;
  /** The Authorization header, or null. */
  authorization: string | null;
}

export type FakeReply =
  | { data: unknown; errors?: GraphQLFormattedError[] }
  | { errors: GraphQLFormattedError[]; data?: unknown }
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { networkError: string };

export type Handler = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeApi {
  fetch: typeof fetch;
  /** Every request, in the order they arrived. */
  requests: FakeRequest[];
  calls(operationName: string): FakeRequest[];
  handle(operationName: string, handler: Handler): void;
}

export function createFakeApi(handlers: Record<string, Handler> = {}): FakeApi {
  const table = new Map(Object.entries(handlers));
  const requests: FakeRequest[] = [];

  const fakeFetch = async (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init?.body ?? "{}")) as {
      operationName?: string;
      variables?: Record<string, unknown>;
    };
    const headers = new Headers(init?.headers);
    const request: FakeRequest = {
      operationName: body.operationName ?? "",
      variables: body.variables ?? {},
      authorization: headers.get("authorization"),
    };
    requests.push(request);
    const handler = table.get(request.operationName);
    if (!handler) throw new Error(`fake API: no handler for ${request.operationName}`);
    const reply = await handler(request);
    if ("networkError" in reply) throw new TypeError(reply.networkError);
    if ("status" in reply) {
      return new Response(JSON.stringify(reply.body), {
        status: reply.status,
        headers: { "content-type": "application/json", ...reply.headers },
      });
    }
    return new Response(JSON.stringify(reply), {
      status: 200,
      headers: { "content-type": "application/graphql-response+json" },
    });
  };

  return {
    fetch: fakeFetch as typeof fetch,
    requests,
    calls: (name) => requests.filter((r) => r.operationName === name),
    handle: (name, handler) => table.set(name, handler),
  };
}

/** A GraphQL error as the API formats it. */
export function gqlError(
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  path?: string[],
): GraphQLFormattedError {
  return { message, path, extensions: { code, ...extra } };
}

export const unauthenticated = (
  path: string,
  message = "The access token is invalid or expired.",
) => ({
  data: null,
  errors: [gqlError("UNAUTHENTICATED", message, {}, [path])],
});

export const viewer = (overrides: Partial<ViewerFieldsFragment> = {}): ViewerFieldsFragment => ({
  __typename: "User",
  id: "u-1",
  email: "ada@example.com",
  username: "ada",
  firstName: "Ada",
  lastName: "Lovelace",
  isStaff: false,
  emailVerified: true,
  ...overrides,
});

export function authPayload(token: string, user = viewer()): AuthPayloadFieldsFragment {
  return {
    __typename: "AuthPayload",
    accessToken: token,
    accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    user,
  };
}

/** A promise with its resolve function outside: to hold a reply until the test says. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An in-memory BroadcastChannel: every channel of one hub hears the others. */
export function createChannelHub() {
  const channels = new Set<FakeChannel>();
  const posted: unknown[] = [];
  class FakeChannel {
    onmessage: ((event: MessageEvent) => void) | null = null;
    constructor() {
      channels.add(this);
    }
    postMessage(message: unknown) {
      posted.push(message);
      // Structured clone: what crosses tabs is data, never a reference.
      const copy = structuredClone(message);
      for (const channel of channels) {
        if (channel !== this)
          queueMicrotask(() => channel.onmessage?.({ data: copy } as MessageEvent));
      }
    }
    close() {
      channels.delete(this);
    }
  }
  return { channel: () => new FakeChannel(), posted };
}
