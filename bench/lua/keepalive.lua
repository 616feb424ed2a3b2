-- wrk script: ask for a persistent connection explicitly.
--
-- HTTP/1.1 connections are persistent unless a side says "Connection: close", but Pistache
-- 0.0.5 answers "Connection: Close" and closes the socket after every response to a request
-- that does not carry "Connection: keep-alive" (wrk sends no Connection header). Without this
-- script every wrk request therefore pays a TCP connect/accept/close; with it the workload
-- measures the request path alone, the way a proxy or client that keeps connections alive
-- sees the server.
wrk.headers["Connection"] = "keep-alive"
