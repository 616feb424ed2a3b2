-- wrk script: a flood of sign-ins at a steady rate, beside another workload. wrk waits for
-- each answer, then this delay: each of bench/run's 150 connections sends one or two sign-ins a
-- second, so about 200 per second are offered (BENCH_EMAIL and
-- BENCH_PASSWORD come from bench/run). The server hashes what its pool can and answers the
-- rest 503 at once; the workload measured beside it shows what that costs everyone else.
wrk.method = "POST"
wrk.headers["X-Tenant"] = "bench"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))

function delay()
  return 500
end
