-- wrk script: name the tenant the way a client does, with the X-Tenant header.
--
-- bench/run creates the tenant "bench" before its workloads. Tenant-scoped routes
-- (/v1/tenant...) go through the TenantResolution middleware, which resolves the slug through
-- the in-process TenantDirectory cache (no registry query once cached). No Connection header:
-- like the plain workloads, every request is a new TCP connection (see keepalive.lua).
wrk.headers["X-Tenant"] = "bench"
