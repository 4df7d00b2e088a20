-- `register` with a new, unique email per request: b-<BENCH_RUN_ID>-<thread>-<n>@glassshop.test.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

local QUERY = "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }"
local headers = bench.headers()
local run_id, password
local sent = 0

function init(_args)
  run_id = bench.env("BENCH_RUN_ID")
  password = bench.env("BENCH_PASSWORD")
end

function request()
  sent = sent + 1
  local variables = string.format(
    '{"input":{"email":"b-%s-%d-%d@glassshop.test","password":"%s"}}',
    run_id, thread_number, sent, password
  )
  return wrk.format("POST", "/graphql", headers, bench.graphql_body(QUERY, variables))
end
