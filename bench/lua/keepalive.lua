-- wrk script: ask for a persistent connection explicitly.
--
-- clinicore keeps HTTP/1.1 connections by default (RFC 9112 §9.3), but the bare Pistache
-- baseline answers "Connection: Close" to a request without a Connection header, and wrk then
-- reconnects for every request. With this header both servers keep their connections, so the
-- keep-alive rows compare the request path alone, the way a proxy or client that keeps
-- connections alive sees the server.
wrk.headers["Connection"] = "keep-alive"
