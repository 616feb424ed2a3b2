-- wrk script: a tenant admin posting new leads, each with an email and a phone no other lead
-- has (so every request creates one, none merges), on persistent connections.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local counter = 0
local prefix = ""

function init()
  -- Each wrk run (the warm-up, then the measured run) and each thread get their own numbers.
  math.randomseed(os.time() * 16 + tid)
  prefix = string.format("%d%03d", tid % 10, math.random(0, 999))
end

wrk.method = "POST"
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ADMIN_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Connection"] = "keep-alive"

function request()
  counter = counter + 1
  local n = string.format("%s%07d", prefix, counter)
  local body = string.format('{"first_name":"Bench","last_name":"Lead %s","email":"lead%s@bench.test",' ..
                             '"phone":"+30%s","source":"manual"}', n, n, n)
  return wrk.format(nil, nil, nil, body)
end
