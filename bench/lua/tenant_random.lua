-- wrk script: every request names a random tenant of "s-1" … "s-N" (X-Tenant), N from
-- CLINICORE_BENCH_TENANT_COUNT, on persistent connections (see keepalive.lua). bench/tenancy
-- --scale creates those tenants; the spread over all of them is what exercises the database's
-- per-backend caches and the connection routing.
local count = tonumber(os.getenv("CLINICORE_BENCH_TENANT_COUNT") or "")
if not count or count < 1 then
  error("CLINICORE_BENCH_TENANT_COUNT must name how many tenants s-1..s-N exist")
end

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init()
  -- Each thread its own sequence of tenants.
  math.randomseed(os.time() * 16 + tid)
end

function request()
  local headers = {["X-Tenant"] = "s-" .. math.random(1, count), ["Connection"] = "keep-alive"}
  return wrk.format("GET", nil, headers)
end
