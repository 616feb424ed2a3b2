-- wrk script: a signed-in user of tenant "bench" reads their own profile. bench/run signs in
-- first and passes the access token in CLINICORE_BENCH_ACCESS_TOKEN. No Connection header:
-- a new TCP connection per request, like the other plain workloads.
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ACCESS_TOKEN")
