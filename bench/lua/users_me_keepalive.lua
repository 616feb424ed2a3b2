-- wrk script: users_me.lua on persistent connections (see keepalive.lua).
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ACCESS_TOKEN")
wrk.headers["Connection"] = "keep-alive"
