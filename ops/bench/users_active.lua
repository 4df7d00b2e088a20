-- `users(first: 50, filter: {isActive: true})` with profiles and `totalCount`, as staff
-- (BENCH_TOKEN): a filtered first page and the count of the users the filter keeps.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

bench.bearer_post(
  "query { users(first: 50, filter: {isActive: true}) { totalCount edges { node { id email profile { phone preferences } } } } }"
)
