-- wrk script: a tenant admin booking a client into distinct 15-minute times (POST
-- /v1/appointments without a hold), on persistent connections. Thread 1 books practitioners
-- 1-5, thread 2 practitioners 6-10, each time slot once; each wrk run (the warm-up, then the
-- measured run) takes its own block of 60 days, so no request meets a taken time.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local practitioners = {}
for id in string.gmatch(os.getenv("BENCH_BOOKING_PRACTITIONERS") or "", "[^,]+") do
  practitioners[#practitioners + 1] = id
end
local clinic = os.getenv("BENCH_BOOKING_CLINIC")
local service = os.getenv("BENCH_BOOKING_SERVICE")
local client = os.getenv("BENCH_CLIENT_ID")
local counter = 0
local first_day = 0

function init()
  -- 40 days ahead (clear of the availability day), then a 60-day block chosen by the clock.
  first_day = os.time() + (40 + (os.time() % 5) * 60) * 86400
end

wrk.method = "POST"
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ADMIN_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Connection"] = "keep-alive"

function request()
  local slot = counter
  counter = counter + 1
  local practitioner = practitioners[(tid - 1) * 5 + slot % 5 + 1]
  local step = math.floor(slot / 5)
  local day = first_day + math.floor(step / 44) * 86400
  -- 44 quarter hours from 06:00Z: inside 08:00-20:00 Athens time in summer (+3) and winter (+2).
  local minutes = 6 * 60 + (step % 44) * 15
  local start = os.date("!%Y-%m-%dT", day) .. string.format("%02d:%02d:00Z", math.floor(minutes / 60), minutes % 60)
  local body = string.format('{"clinic_id":"%s","service_id":"%s","practitioner_id":"%s","client_id":"%s",' ..
                             '"start":"%s"}', clinic, service, practitioner, client, start)
  return wrk.format(nil, nil, nil, body)
end
