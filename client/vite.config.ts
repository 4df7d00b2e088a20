/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

// The API, which the dev server (and `vite preview`) proxies /graphql to, websockets
// included, so that the app and the API share one origin as they do in production.
const API = process.env.GLASSSHOP_API ?? "http://127.0.0.1:8000";

const graphqlProxy: ProxyOptions = {
  target: API,
  changeOrigin: true,
  ws: true,
  configure(proxy) {
    // The API only honours the refresh cookie from its own origin (or CORS_ORIGINS).
    // Behind this proxy the page and the API are one origin, so say so.
    proxy.on("proxyReq", (request) => {
      if (request.getHeader("origin")) request.setHeader("origin", API);
    });
    proxy.on("proxyReqWs", (request) => {
      if (request.getHeader("origin")) request.setHeader("origin", API);
    });
  },
};

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/graphql": graphqlProxy } },
  preview: { proxy: { "/graphql": graphqlProxy } },
  build: {
    rolldownOptions: {
      // Libraries in a chunk of their own: it stays cached across releases of the app.
      output: { codeSplitting: { groups: [{ name: "vendor", test: /node_modules/ }] } },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
