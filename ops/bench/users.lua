-- `users(first: 50)` with profiles, as staff (BENCH_TOKEN): the staff list read path.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

bench.bearer_post(
  "query { users(first: 50) { edges { node { id email profile { phone preferences } } } } }"
)
