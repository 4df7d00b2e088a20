import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { describe, expect, it } from "vitest";
import { LoginMutation, ViewerQuery } from "../auth/operations";
import { MyProfileQueryDoc } from "../pages/ProfilePage";
import { MySessionsQuery } from "../pages/SessionsPage";
import {
  authPayload,
  createChannelHub,
  createFakeApi,
  deferred,
  type FakeRequest,
  gqlError,
  unauthenticated,
  viewer,
} from "../test/fakeApi";
import { createAppClient } from "./client";

const sessions = (token: string) => ({
  me: {
    __typename: "User",
    id: "u-1",
    sessions: [
      {
        __typename: "Session",
        id: `s-${token}`,
        createdAt: "2025-01-01T00:00:00Z",
        lastUsedAt: "2025-01-01T00:00:00Z",
        expiresAt: "2025-01-08T00:00:00Z",
        userAgent: null,
        ipAddress: null,
        current: true,
      },
    ],
  },
});

const profile = {
  me: {
    __typename: "User",
    id: "u-1",
    email: "ada@example.com",
    username: "ada",
    firstName: "Ada",
    lastName: "Lovelace",
    emailVerified: true,
    dateJoined: "2025-01-01T00:00:00Z",
    profile: {
      __typename: "UserProfile",
      id: "p-1",
      phone: "+44 20 7946 0000",
      address: null,
      preferences: {},
      updatedAt: "2025-01-01T00:00:00Z",
    },
  },
};

/** The API: only `Bearer <valid>` is accepted for the signed-in queries. */
function answerWith(valid: () => string) {
  return (field: string, data: () => unknown) => (request: FakeRequest) =>
    request.authorization === `Bearer ${valid()}` ? { data: data() } : unauthenticated(field);
}

async function signedInClient(refresh: Parameters<typeof createFakeApi>[0] = {}) {
  const api = createFakeApi(refresh);
  const hub = createChannelHub();
  const app = createAppClient({ fetch: api.fetch, wsUrl: null, channel: hub.channel() });
  await app.signIn(authPayload("old"));
  return { api, app, hub };
}

describe("the auth link", () => {
  it("sends the access token from memory as a Bearer token", async () => {
    const { api, app } = await signedInClient();
    api.handle("MySessions", () => ({ data: sessions("old") }));
    await app.client.query({ query: MySessionsQuery });
    expect(api.calls("MySessions")[0]?.authorization).toBe("Bearer old");
  });

  it("shares one refresh among concurrent UNAUTHENTICATED requests, then retries each once", async () => {
    let valid = "old";
    const release = deferred();
    const { api, app } = await signedInClient();
    valid = "expired-for-the-server";
    const ok = answerWith(() => valid);
    api.handle(
      "MySessions",
      ok("me", () => sessions(valid)),
    );
    api.handle(
      "Viewer",
      ok("me", () => ({ me: viewer() })),
    );
    api.handle(
      "MyProfile",
      ok("me", () => profile),
    );
    api.handle("Refresh", async () => {
      await release.promise; // keep the refresh in flight while every request fails
      valid = "new";
      return { data: { refresh: authPayload("new") } };
    });

    const results = Promise.all([
      app.client.query({ query: MySessionsQuery, fetchPolicy: "network-only" }),
      app.client.query({ query: ViewerQuery, fetchPolicy: "network-only" }),
      app.client.query({ query: MyProfileQueryDoc, fetchPolicy: "network-only" }),
    ]);
    // All three were refused while the one refresh is still out.
    await waitUntil(() => api.requests.length === 4);
    expect(api.calls("Refresh")).toHaveLength(1);
    release.resolve();
    const [first, second, third] = await results;

    expect(api.calls("Refresh")).toHaveLength(1);
    expect(first.data?.me?.sessions[0]?.id).toBe("s-new");
    expect(second.data?.me?.email).toBe("ada@example.com");
    expect(third.data?.me?.profile.phone).toBe("+44 20 7946 0000");
    const retried = api.requests.filter((r) => r.operationName !== "Refresh");
    expect(retried.filter((r) => r.authorization === "Bearer old")).toHaveLength(
      retried.length / 2,
    );
    expect(retried.filter((r) => r.authorization === "Bearer new")).toHaveLength(
      retried.length / 2,
    );
    expect(app.session.accessToken).toBe("new");
    expect(app.session.getState().status).toBe("signedIn");
  });

  it("retries without another refresh when the token was renewed while the request was out", async () => {
    const { api, app } = await signedInClient();
    const late = deferred();
    let valid = "expired";
    api.handle("Refresh", () => {
      valid = "new";
      return { data: { refresh: authPayload("new") } };
    });
    api.handle("Viewer", (request) =>
      request.authorization === `Bearer ${valid}`
        ? { data: { me: viewer() } }
        : unauthenticated("me"),
    );
    api.handle("MySessions", async (request) => {
      if (request.authorization === "Bearer old") await late.promise; // answers after the refresh
      return request.authorization === `Bearer ${valid}`
        ? { data: sessions(valid) }
        : unauthenticated("me");
    });

    const slow = app.client.query({ query: MySessionsQuery, fetchPolicy: "network-only" });
    await app.client.query({ query: ViewerQuery, fetchPolicy: "network-only" });
    expect(api.calls("Refresh")).toHaveLength(1);
    late.resolve();
    const { data } = await slow;

    expect(data?.me?.sessions[0]?.id).toBe("s-new");
    expect(api.calls("Refresh")).toHaveLength(1);
    expect(api.calls("MySessions").map((r) => r.authorization)).toEqual([
      "Bearer old",
      "Bearer new",
    ]);
  });

  it("retries only once: a request refused again after a refresh fails with UNAUTHENTICATED", async () => {
    const { api, app } = await signedInClient();
    api.handle("Refresh", () => ({ data: { refresh: authPayload("new") } }));
    api.handle("MySessions", () => unauthenticated("me"));

    const error = await app.client
      .query({ query: MySessionsQuery, fetchPolicy: "network-only" })
      .then(
        () => null,
        (e: unknown) => e,
      );

    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect(api.calls("MySessions")).toHaveLength(2);
    expect(api.calls("Refresh")).toHaveLength(1);
  });

  it("signs out (and tells the other tabs, without the token) when the refresh is refused", async () => {
    const hub = createChannelHub();
    // Another tab, signed in first; it refreshes when it hears this tab sign in.
    const otherApi = createFakeApi({
      Refresh: () => ({ data: { refresh: authPayload("other-2") } }),
    });
    const otherTab = createAppClient({
      fetch: otherApi.fetch,
      wsUrl: null,
      channel: hub.channel(),
    });
    await otherTab.signIn(authPayload("other-1"));
    const api = createFakeApi();
    const app = createAppClient({ fetch: api.fetch, wsUrl: null, channel: hub.channel() });
    await app.signIn(authPayload("old"));
    await waitUntil(() => otherTab.session.accessToken === "other-2");

    api.handle("Refresh", () =>
      unauthenticated("refresh", "The refresh token is invalid, expired or revoked."),
    );
    api.handle("MySessions", () => unauthenticated("me"));
    api.handle("MyProfile", () => unauthenticated("me"));
    const results = await Promise.allSettled([
      app.client.query({ query: MySessionsQuery, fetchPolicy: "network-only" }),
      app.client.query({ query: MyProfileQueryDoc, fetchPolicy: "network-only" }),
    ]);

    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(api.calls("Refresh")).toHaveLength(1);
    expect(app.session.accessToken).toBeNull();
    expect(app.session.getState()).toEqual({ status: "signedOut", signOutReason: "expired" });
    // The previous user's data is gone from the cache.
    expect(app.client.readQuery({ query: ViewerQuery })).toBeNull();
    // The other tab hears it and signs out too; no message carries a token.
    await waitUntil(() => otherTab.session.getState().status === "signedOut");
    expect(otherTab.session.getState().signOutReason).toBe("other-tab");
    expect(otherTab.session.accessToken).toBeNull();
    expect(hub.posted).toEqual([
      { type: "signed-in" },
      { type: "signed-in" },
      { type: "signed-out" },
    ]);
  });

  it("keeps the session when the refresh cannot reach the server, and reports the network error", async () => {
    const { api, app } = await signedInClient();
    api.handle("Refresh", () => ({ networkError: "Failed to fetch" }));
    api.handle("MySessions", () => unauthenticated("me"));

    const error = await app.client
      .query({ query: MySessionsQuery, fetchPolicy: "network-only" })
      .then(
        () => null,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(TypeError);
    expect(app.session.getState().status).toBe("signedIn");
  });

  it("never refreshes or sends the token for login: UNAUTHENTICATED there is a wrong password", async () => {
    const { api, app } = await signedInClient();
    api.handle("Refresh", () => ({ data: { refresh: authPayload("new") } }));
    api.handle("Login", () => ({
      data: null,
      errors: [gqlError("UNAUTHENTICATED", "Invalid email or password.", {}, ["login"])],
    }));

    const error = await app.client
      .mutate({ mutation: LoginMutation, variables: { input: { email: "a@b.c", password: "x" } } })
      .then(
        () => null,
        (e: unknown) => e,
      );

    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect(api.calls("Refresh")).toHaveLength(0);
    expect(api.calls("Login")[0]?.authorization).toBeNull();
  });

  it("holds requests made during the refresh on load until it answers", async () => {
    const release = deferred();
    const api = createFakeApi({
      Refresh: async () => {
        await release.promise;
        return { data: { refresh: authPayload("from-cookie") } };
      },
      MySessions: (r) =>
        r.authorization === "Bearer from-cookie" ? { data: sessions("x") } : unauthenticated("me"),
    });
    const app = createAppClient({ fetch: api.fetch, wsUrl: null, channel: null });
    const started = app.session.start();
    const query = app.client.query({ query: MySessionsQuery });
    release.resolve();
    await started;
    await query;

    expect(api.calls("Refresh")).toHaveLength(1);
    expect(api.calls("MySessions").map((r) => r.authorization)).toEqual(["Bearer from-cookie"]);
  });
});

async function waitUntil(condition: () => boolean, timeout = 2000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
