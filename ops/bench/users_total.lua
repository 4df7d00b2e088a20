-- `users(first: 50)` with profiles and `totalCount`, as staff (BENCH_TOKEN): the staff
-- list's first page as the web client asks for it (the count of every user).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

bench.bearer_post(
  "query { users(first: 50) { totalCount edges { node { id email profile { phone preferences } } } } }"
)
