-- `refresh` with the refresh token in the body (X-Refresh-Token-Transport: body).
--
-- Every refresh rotates the token, so each request must present the token returned by
-- the previous one. run.sh runs wrk with one connection per thread, so a thread's
-- requests are strictly sequential (wrk asks for the next request only after the
-- previous response), and a per-thread variable is a per-connection token chain.
-- Thread n starts from line n of BENCH_REFRESH_TOKENS (one login per thread, made by
-- run.sh before the timed run). A broken chain shows up as errors, never as speed.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")

local QUERY = "mutation($token: String) { refresh(refreshToken: $token) { accessToken refreshToken } }"
local headers = bench.headers({ ["X-Refresh-Token-Transport"] = "body" })
local token

function init(_args)
  local line = 0
  for value in io.lines(bench.env("BENCH_REFRESH_TOKENS")) do
    line = line + 1
    if line == thread_number then
      token = value
    end
  end
  if token == nil then
    error("ops/bench: no refresh token for thread " .. thread_number)
  end
end

function request()
  local variables = string.format('{"token":"%s"}', token)
  return wrk.format("POST", "/graphql", headers, bench.graphql_body(QUERY, variables))
end

setup = bench.setup
done = bench.done

function response(status, response_headers, body)
  if bench.response(status, response_headers, body) then
    token = string.match(body, '"refreshToken"%s*:%s*"([^"]+)"') or token
  end
end
