/**
 * The signed-in state of this tab.
 *
 * - The access token lives in this object only: never in localStorage, sessionStorage or
 *   a cookie readable by scripts. A reload forgets it; `start()` gets a new one with the
 *   refresh token, which is the API's httpOnly cookie (path /graphql, SameSite=Strict).
 * - `refresh()` is single-flight: however many callers ask at once, one refresh request
 *   is made and all of them wait for it.
 * - Other tabs hear about sign-in and sign-out through a BroadcastChannel. Messages carry
 *   no token: a tab that hears "signed-in" refreshes with the shared cookie itself.
 */

/** What login, register and refresh return, as far as the session cares. */
export interface TokenGrant {
  accessToken: string;
  /** ISO-8601 */
  accessTokenExpiresAt: string;
  userId: string;
}

export type AuthStatus =
  /** The first refresh has not answered yet. */
  | "loading"
  | "signedIn"
  | "signedOut"
  /** The first refresh could not reach the server: we do not know. */
  | "unreachable";

export type SignOutReason =
  /** The user asked. */
  | "user"
  /** The refresh token was refused (expired, revoked, signed out elsewhere). */
  | "expired"
  /** Another tab signed out. */
  | "other-tab"
  /** Never signed in (no cookie on load). */
  | "none";

export interface SessionState {
  status: AuthStatus;
  signOutReason: SignOutReason | null;
}

/** The refresh request: a grant, null when the API refused the refresh token, or a
 * thrown error when the API could not be reached. */
export type RefreshRequest = () => Promise<TokenGrant | null>;

export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

export interface AuthSessionOptions {
  refresh: RefreshRequest;
  /** After sign-in or a refresh; `userChanged` when it is another account than before. */
  onSignedIn?: (grant: TokenGrant, userChanged: boolean) => void | Promise<void>;
  /** After this tab signed out, for whatever reason (clear caches here). */
  onSignedOut?: (reason: SignOutReason) => void | Promise<void>;
  /** A BroadcastChannel (or a stand-in); null for none. Defaults to a real one. */
  channel?: ChannelLike | null;
  /** Seconds before expiry at which `freshAccessToken()` refreshes first. */
  expiryMargin?: number;
  now?: () => number;
}

type Message = { type: "signed-in" } | { type: "signed-out" };

export const CHANNEL_NAME = "glassshop-auth";

function defaultChannel(): ChannelLike | null {
  return typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(CHANNEL_NAME);
}

export class AuthSession {
  private token: string | null = null;
  private expiresAt = 0;
  private userId: string | null = null;
  private inflight: Promise<boolean> | null = null;
  private state: SessionState = { status: "loading", signOutReason: null };
  private readonly listeners = new Set<() => void>();
  private readonly channel: ChannelLike | null;
  private readonly options: AuthSessionOptions;
  private readonly now: () => number;

  constructor(options: AuthSessionOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.channel = options.channel === undefined ? defaultChannel() : options.channel;
    if (this.channel) this.channel.onmessage = (event) => this.onMessage(event.data as Message);
  }

  /** The current access token, for the Authorization header. */
  get accessToken(): string | null {
    return this.token;
  }

  get currentUserId(): string | null {
    return this.userId;
  }

  getState = (): SessionState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The refresh in flight, if any: requests wait for it before they are sent. */
  get pending(): Promise<boolean> | null {
    return this.inflight;
  }

  /** On load: try the refresh cookie, silently. */
  start(): Promise<boolean> {
    return this.refresh().catch(() => false);
  }

  /**
   * Get a new access token with the refresh cookie. Resolves true when signed in, false
   * when the API refused (this tab is then signed out); rejects when the API could not
   * be reached (nothing changes, except that a first refresh leaves "unreachable").
   */
  refresh(): Promise<boolean> {
    this.inflight ??= this.runRefresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * A request sent with `staleToken` was refused as UNAUTHENTICATED. Refresh, unless the
   * token has been replaced since that request left: then retrying is enough.
   */
  refreshAfterRejection(staleToken: string | null): Promise<boolean> {
    if (this.inflight) return this.inflight;
    // Replaced since: a retry with the new token is all it takes.
    if (this.token !== null && this.token !== staleToken) return Promise.resolve(true);
    // Signed out since (a refused refresh, another tab): there is nothing to refresh.
    if (this.token === null && staleToken !== null) return Promise.resolve(false);
    return this.refresh();
  }

  /** A token that will still be valid for a while (websocket connection_init). */
  async freshAccessToken(): Promise<string | null> {
    if (this.inflight) await this.inflight.catch(() => false);
    const margin = (this.options.expiryMargin ?? 30) * 1000;
    if (this.token && this.expiresAt - margin <= this.now())
      await this.refresh().catch(() => false);
    return this.token;
  }

  /** login or register succeeded. */
  async signedIn(grant: TokenGrant): Promise<void> {
    await this.accept(grant);
    this.post({ type: "signed-in" });
  }

  /** Forget the token (the caller has told the API, or the API has refused us). */
  async signOut(reason: SignOutReason, { broadcast = true } = {}): Promise<void> {
    const wasSignedIn = this.token !== null || this.state.status === "signedIn";
    this.token = null;
    this.expiresAt = 0;
    this.userId = null;
    this.setState({ status: "signedOut", signOutReason: reason });
    await this.options.onSignedOut?.(reason);
    if (broadcast && wasSignedIn) this.post({ type: "signed-out" });
  }

  dispose(): void {
    this.channel?.close();
    this.listeners.clear();
  }

  private async runRefresh(): Promise<boolean> {
    let grant: TokenGrant | null;
    try {
      grant = await this.options.refresh();
    } catch (error) {
      if (this.state.status === "loading") {
        this.setState({ status: "unreachable", signOutReason: null });
      }
      throw error;
    }
    if (grant === null) {
      const reason: SignOutReason = this.state.status === "signedIn" ? "expired" : "none";
      // Refused: the other tabs share the cookie, so they are signed out too.
      await this.signOut(reason, { broadcast: reason === "expired" });
      return false;
    }
    await this.accept(grant);
    return true;
  }

  private async accept(grant: TokenGrant): Promise<void> {
    const userChanged = this.userId !== null && this.userId !== grant.userId;
    this.token = grant.accessToken;
    const expires = Date.parse(grant.accessTokenExpiresAt);
    this.expiresAt = Number.isNaN(expires) ? 0 : expires;
    this.userId = grant.userId;
    await this.options.onSignedIn?.(grant, userChanged);
    this.setState({ status: "signedIn", signOutReason: null });
  }

  private onMessage(message: Message): void {
    if (message?.type === "signed-out") {
      if (this.state.status !== "signedOut") void this.signOut("other-tab", { broadcast: false });
    } else if (message?.type === "signed-in") {
      // Another tab signed in (perhaps as someone else): take the shared cookie.
      this.refresh().catch(() => undefined);
    }
  }

  private post(message: Message): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // a closed channel: nothing to tell
    }
  }

  private setState(next: SessionState): void {
    if (next.status === this.state.status && next.signOutReason === this.state.signOutReason)
      return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}
