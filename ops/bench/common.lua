-- Shared by the wrk scripts of ops/bench/run.sh: GraphQL POSTs, error counting and
-- one RESULT line per run.
--
-- A response is an error when its status is not 2xx or its body carries GraphQL
-- "errors"; wrk's own socket errors and timeouts are added. "ok req/s" counts only
-- successful responses. Each wrk thread gets a number (1..threads) as the global
-- `thread_number`, set before its init().

local M = {}

local threads = {}

function M.graphql_body(query, variables)
  -- Callers pass JSON-safe text (tokens, seeded emails): no escaping needed.
  return string.format('{"query":"%s","variables":%s}', query, variables or "{}")
end

function M.headers(extra)
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  for name, value in pairs(extra or {}) do
    headers[name] = value
  end
  return headers
end

function M.env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    if default == nil then
      error("ops/bench: " .. name .. " is not set")
    end
    return default
  end
  return value
end

-- wrk calls these as globals; scripts install them with M.install().

-- Every request the same POST of `query`, with BENCH_TOKEN as its Bearer token.
function M.bearer_post(query)
  wrk.method = "POST"
  wrk.path = "/graphql"
  wrk.headers = M.headers({ ["Authorization"] = "Bearer " .. M.env("BENCH_TOKEN") })
  wrk.body = M.graphql_body(query)
end

function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

ok_responses = 0
error_responses = 0
first_error = nil

function M.response(status, _headers, body)
  if status >= 200 and status < 300 and not string.find(body, '"errors"', 1, true) then
    ok_responses = ok_responses + 1
    return true
  end
  error_responses = error_responses + 1
  if first_error == nil then
    first_error = "HTTP " .. status .. ": " .. string.sub(body, 1, 300)
  end
  return false
end

function M.done(summary, latency, _requests)
  local ok, failed, sample = 0, 0, nil
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok_responses")
    failed = failed + thread:get("error_responses")
    sample = sample or thread:get("first_error")
  end
  local e = summary.errors
  failed = failed + e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT\t%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\n",
    M.env("BENCH_OP"), ok, failed, ok / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000
  ))
  if sample ~= nil then
    io.write("FIRST_ERROR\t" .. M.env("BENCH_OP") .. "\t" .. sample:gsub("%s+", " ") .. "\n")
  end
end

function M.install()
  setup = M.setup
  response = M.response
  done = M.done
end

return M
