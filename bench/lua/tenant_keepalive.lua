-- wrk script: the tenant "bench" (X-Tenant, see tenant.lua) on persistent connections
-- (Connection: keep-alive, see keepalive.lua for why Pistache 0.0.5 needs it said).
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Connection"] = "keep-alive"
