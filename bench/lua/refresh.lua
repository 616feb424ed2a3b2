-- wrk script: refresh-token rotation. Each wrk thread has one connection (bench/run runs this
-- with -t2 -c2): it signs in once, then presents the refresh token it was last given, again
-- and again. A token is good once, so two requests in flight on one chain would trip reuse
-- detection; one connection per thread keeps each chain strictly sequential.
local refresh_token = nil

local headers = {["X-Tenant"] = "bench", ["Content-Type"] = "application/json", ["Connection"] = "keep-alive"}

request = function()
  if refresh_token == nil then
    return wrk.format("POST", "/v1/auth/login", headers,
      string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD")))
  end
  return wrk.format("POST", "/v1/auth/refresh", headers, string.format('{"refresh_token":"%s"}', refresh_token))
end

response = function(status, _, body)
  if status == 200 then
    refresh_token = string.match(body, '"refresh_token":"([^"]+)"')
  else
    refresh_token = nil
  end
end
