-- `login` as the seeded users (user00001@glassshop.test … BENCH_USERS) with BENCH_PASSWORD,
-- each thread walking its own stretch of them so no two requests fight over one user row.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

local QUERY = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }"
local headers = bench.headers()
local users, password, next_user

function init(_args)
  users = tonumber(bench.env("BENCH_USERS"))
  password = bench.env("BENCH_PASSWORD")
  next_user = ((thread_number - 1) * 997) % users
end

function request()
  next_user = next_user % users + 1
  local variables = string.format(
    '{"input":{"email":"user%05d@glassshop.test","password":"%s"}}', next_user, password
  )
  return wrk.format("POST", "/graphql", headers, bench.graphql_body(QUERY, variables))
end
