-- wrk script: a tenant admin reading the CRM's leads (GET), on persistent connections (see
-- keepalive.lua). The path (with ?limit= or ?search=) is the workload's.
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CLINICORE_BENCH_ADMIN_TOKEN")
wrk.headers["Connection"] = "keep-alive"
