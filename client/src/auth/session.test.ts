import { describe, expect, it, vi } from "vitest";
import { createChannelHub, deferred } from "../test/fakeApi";
import { AuthSession, type TokenGrant } from "./session";

const grant = (token: string, userId = "u-1"): TokenGrant => ({
  accessToken: token,
  accessTokenExpiresAt: new Date(Date.now() + 900_000).toISOString(),
  userId,
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("AuthSession", () => {
  it("makes one refresh request however many callers ask at once", async () => {
    const answer = deferred<TokenGrant | null>();
    const refresh = vi.fn(() => answer.promise);
    const session = new AuthSession({ refresh, channel: null });
    const calls = [session.start(), session.refresh(), session.refreshAfterRejection(null)];
    answer.resolve(grant("a"));
    expect(await Promise.all(calls)).toEqual([true, true, true]);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(session.getState()).toEqual({ status: "signedIn", signOutReason: null });
  });

  it("is signed out, without telling anyone, when there is no refresh cookie on load", async () => {
    const hub = createChannelHub();
    const session = new AuthSession({ refresh: async () => null, channel: hub.channel() });
    expect(await session.start()).toBe(false);
    expect(session.getState()).toEqual({ status: "signedOut", signOutReason: "none" });
    expect(hub.posted).toEqual([]);
  });

  it("says 'unreachable' when the first refresh cannot reach the API", async () => {
    const session = new AuthSession({
      refresh: async () => {
        throw new TypeError("Failed to fetch");
      },
      channel: null,
    });
    expect(await session.start()).toBe(false);
    expect(session.getState().status).toBe("unreachable");
  });

  it("keeps tabs in step: sign-in elsewhere refreshes here, sign-out elsewhere signs out here", async () => {
    const hub = createChannelHub();
    const refreshB = vi.fn(async () => grant("b"));
    const signedOutB = vi.fn();
    const a = new AuthSession({ refresh: async () => null, channel: hub.channel() });
    const b = new AuthSession({
      refresh: refreshB,
      channel: hub.channel(),
      onSignedOut: signedOutB,
    });
    await a.start();
    await b.start().catch(() => false);
    refreshB.mockClear();

    await a.signedIn(grant("a"));
    await tick();
    expect(refreshB).toHaveBeenCalledTimes(1);
    expect(b.accessToken).toBe("b");

    await a.signOut("user");
    await tick();
    expect(b.accessToken).toBeNull();
    expect(b.getState()).toEqual({ status: "signedOut", signOutReason: "other-tab" });
    expect(signedOutB).toHaveBeenCalledWith("other-tab");
    expect(hub.posted).toEqual([{ type: "signed-in" }, { type: "signed-out" }]);
  });

  it("refreshes a token about to expire before handing it to a websocket", async () => {
    let now = 0;
    const refresh = vi.fn(async () => ({
      ...grant("second"),
      accessTokenExpiresAt: new Date(1_000_000).toISOString(),
    }));
    const session = new AuthSession({ refresh, channel: null, now: () => now, expiryMargin: 30 });
    await session.signedIn({
      ...grant("first"),
      accessTokenExpiresAt: new Date(100_000).toISOString(),
    });
    now = 50_000;
    expect(await session.freshAccessToken()).toBe("first");
    now = 75_000; // 25 s left: within the margin
    expect(await session.freshAccessToken()).toBe("second");
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});
