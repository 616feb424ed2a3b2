-- wrk script: sign-in of one user of tenant "bench", request after request (BENCH_EMAIL and
-- BENCH_PASSWORD come from bench/run). Each request costs one Argon2id verification.
wrk.method = "POST"
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Connection"] = "keep-alive"
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
