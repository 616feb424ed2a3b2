-- wrk script: 10,000 staff bookings at once (5,000 per thread) of 80 distinct times (two
-- practitioners, 40 quarter hours of one day): every time can be booked once, every other
-- attempt must be a 409. bench/run then counts the appointments and any overlap among them.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local practitioners = {}
for id in string.gmatch(os.getenv("BENCH_BOOKING_PRACTITIONERS") or "", "[^,]+") do
  practitioners[#practitioners + 1] = id
end
local body_format = '{"clinic_id":"' .. os.getenv("BENCH_BOOKING_CLINIC") .. '","service_id":"' ..
                    os.getenv("BENCH_BOOKING_SERVICE") .. '","practitioner_id":"%s","client_id":"' ..
                    os.getenv("BENCH_CLIENT_ID") .. '","start":"' .. os.getenv("BENCH_CONTENTION_DAY") ..
                    'T%02d:%02d:00Z"}'
local answered = 0

function init()
  math.randomseed(os.time() * 16 + tid)
end

wrk.method = "POST"
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ADMIN_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Connection"] = "keep-alive"

function request()
  local slot = math.random(0, 79)
  local minutes = 6 * 60 + (slot % 40) * 15
  local body = string.format(body_format, practitioners[1 + math.floor(slot / 40)], math.floor(minutes / 60),
                             minutes % 60)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= 5000 then wrk.thread:stop() end
end
