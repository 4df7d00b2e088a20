-- `me` with a Bearer token (BENCH_TOKEN): the signed-in user's read path.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")
bench.install()

wrk.method = "POST"
wrk.path = "/graphql"
wrk.headers = bench.headers({ ["Authorization"] = "Bearer " .. bench.env("BENCH_TOKEN") })
wrk.body = bench.graphql_body("query { me { id email firstName profile { phone preferences } } }")
