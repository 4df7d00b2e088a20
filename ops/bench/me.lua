-- `me` with a Bearer token (BENCH_TOKEN): the signed-in user's read path.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

bench.bearer_post(
  "query { me { id email firstName profile { phone preferences } } }"
)
