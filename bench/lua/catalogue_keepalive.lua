-- wrk script: a client of the bench tenant reading a clinic's services, on persistent
-- connections (see keepalive.lua).
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_CLIENT_TOKEN")
wrk.headers["Connection"] = "keep-alive"
