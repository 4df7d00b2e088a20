import { render } from "@testing-library/react";
import { StrictMode } from "react";
import { MemoryRouter } from "react-router";
import { AppRoutes } from "../App";
import { createAppClient } from "../apollo/client";
import { AppProviders } from "../auth/AuthContext";
import { authPayload, createFakeApi, type Handler, unauthenticated, viewer } from "./fakeApi";

/**
 * The whole app at `route`, on a fake API. `signedIn`: the refresh on load succeeds
 * (as it does with a refresh cookie); otherwise it is refused.
 */
export function renderApp(
  route: string,
  {
    handlers = {},
    signedIn = false,
    user = viewer(),
  }: {
    handlers?: Record<string, Handler>;
    signedIn?: boolean;
    user?: ReturnType<typeof viewer>;
  } = {},
) {
  const api = createFakeApi({
    Refresh: () =>
      signedIn
        ? { data: { refresh: authPayload("token-1", user) } }
        : unauthenticated("refresh", "No refresh token was presented."),
    ...handlers,
  });
  const app = createAppClient({ fetch: api.fetch, wsUrl: null, channel: null });
  // Strict mode, as in main.tsx: effects run twice, which one-shot calls must survive.
  const result = render(
    <StrictMode>
      <AppProviders app={app}>
        <MemoryRouter initialEntries={[route]}>
          <AppRoutes />
        </MemoryRouter>
      </AppProviders>
    </StrictMode>,
  );
  return { ...result, api, app };
}
