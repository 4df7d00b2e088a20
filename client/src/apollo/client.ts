import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { OperationTypeNode } from "graphql";
import { createClient, type Client as WsClient } from "graphql-ws";
import { LogoutMutation, RefreshMutation, ViewerQuery } from "../auth/operations";
import { AuthSession, type ChannelLike, type TokenGrant } from "../auth/session";
import type { AuthPayloadFieldsFragment } from "../gql/graphql";
import { createAuthLink } from "./authLink";
import { toApiError } from "./errors";

export interface AppClientOptions {
  /** The GraphQL endpoint; same origin as the app. */
  uri?: string;
  /** Injected in tests (a fake API); the browser's fetch otherwise. */
  fetch?: typeof fetch;
  /** The websocket URL for subscriptions; null for none (tests). */
  wsUrl?: string | null;
  /** The cross-tab channel; see AuthSession. */
  channel?: ChannelLike | null;
}

export interface AppClient {
  client: ApolloClient;
  session: AuthSession;
  /** After login or register: remember the token, seed the cache, tell other tabs. */
  signIn(payload: AuthPayloadFieldsFragment): Promise<void>;
  /**
   * Revoke this session (or all of the user's) and forget the token. Rejects, leaving
   * this tab signed in, when the API could not be told: the refresh cookie would
   * otherwise still work.
   */
  signOut(options?: { everywhere?: boolean }): Promise<void>;
}

function defaultWsUrl(uri: string): string | null {
  if (typeof window === "undefined" || typeof WebSocket === "undefined") return null;
  const url = new URL(uri, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function grantOf(payload: AuthPayloadFieldsFragment): TokenGrant {
  return {
    accessToken: payload.accessToken,
    accessTokenExpiresAt: payload.accessTokenExpiresAt,
    userId: payload.user.id,
  };
}

export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      // JSON scalars: replaced whole, never merged key by key.
      UserProfile: { fields: { preferences: { merge: false }, metadata: { merge: false } } },
      AuditLog: { fields: { changes: { merge: false } } },
      User: { fields: { sessions: { merge: false } } },
    },
  });
}

export function createAppClient(options: AppClientOptions = {}): AppClient {
  const uri = options.uri ?? "/graphql";
  let wsClient: WsClient | null = null;
  const cache = createCache();

  // The refresh goes through the same client (and link chain: the auth link lets it
  // through untouched), so the cache learns the user it returns.
  const refresh = async (): Promise<TokenGrant | null> => {
    try {
      const { data } = await client.mutate({ mutation: RefreshMutation, fetchPolicy: "no-cache" });
      if (!data) return null;
      await remember(data.refresh);
      return grantOf(data.refresh);
    } catch (error) {
      const { code } = toApiError(error);
      if (code === "UNAUTHENTICATED" || code === "FORBIDDEN") return null;
      throw error;
    }
  };

  const session = new AuthSession({
    refresh,
    channel: options.channel,
    onSignedOut: async () => {
      // Nothing of the previous user stays in memory; open subscriptions end.
      wsClient?.terminate();
      await client.clearStore();
    },
  });

  /** Seed the cache with the signed-in user, dropping another user's data first. */
  async function remember(payload: AuthPayloadFieldsFragment): Promise<void> {
    const previous = session.currentUserId;
    if (previous !== null && previous !== payload.user.id) {
      wsClient?.terminate();
      await client.clearStore();
    }
    client.writeQuery({ query: ViewerQuery, data: { me: payload.user } });
  }

  const http = new HttpLink({ uri, fetch: options.fetch, credentials: "same-origin" });
  let transport: ApolloLink = http;

  const wsUrl = options.wsUrl === undefined ? defaultWsUrl(uri) : options.wsUrl;
  if (wsUrl) {
    wsClient = createClient({
      url: wsUrl,
      lazy: true,
      // Browsers cannot set headers on a websocket: the token goes in connection_init.
      connectionParams: async () => {
        const token = await session.freshAccessToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      retryAttempts: 5,
    });
    transport = ApolloLink.split(
      ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
      new GraphQLWsLink(wsClient),
      http,
    );
  }

  const client: ApolloClient = new ApolloClient({
    link: ApolloLink.from([createAuthLink(session), transport]),
    cache,
  });

  return {
    client,
    session,
    async signIn(payload) {
      // A sign-in always starts from an empty cache: it may be another account.
      wsClient?.terminate();
      await client.clearStore();
      client.writeQuery({ query: ViewerQuery, data: { me: payload.user } });
      await session.signedIn(grantOf(payload));
    },
    async signOut({ everywhere = false } = {}) {
      try {
        await client.mutate({ mutation: LogoutMutation, variables: { everywhere } });
      } catch (error) {
        // UNAUTHENTICATED: there was nothing left to sign out of.
        if (toApiError(error).code !== "UNAUTHENTICATED") throw error;
      }
      await session.signOut("user");
    },
  };
}
