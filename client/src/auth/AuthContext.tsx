import { ApolloProvider } from "@apollo/client/react";
import { createContext, type ReactNode, useContext, useEffect, useSyncExternalStore } from "react";
import type { AppClient } from "../apollo/client";
import type { SessionState } from "./session";

interface AuthContextValue extends SessionState {
  app: AppClient;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/** Provides Apollo and the session; starts the silent refresh once, on mount. */
export function AppProviders({ app, children }: { app: AppClient; children: ReactNode }) {
  const state = useSyncExternalStore(app.session.subscribe, app.session.getState);
  useEffect(() => {
    if (app.session.getState().status === "loading") void app.session.start();
  }, [app]);
  return (
    <ApolloProvider client={app.client}>
      <AuthContext.Provider value={{ ...state, app }}>{children}</AuthContext.Provider>
    </ApolloProvider>
  );
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth needs <AppProviders>");
  return value;
}
