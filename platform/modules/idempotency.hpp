#pragma once

#include "platform/db/database.hpp"
#include "platform/modules/route_table.hpp"

namespace clinicore::modules {

// Idempotency-Key for any POST (RouteTable::Add with `idempotent`): a client that retries a
// request with the same key and the same body gets the first answer again, status, body and
// Location, without a second effect; the same key with another body is a 409 naming
// `Idempotency-Key`, and so is a retry while the first request is still running. Keys are
// per caller and path, kept 24 hours; refusals and failures are not kept (they changed
// nothing, so a retry is judged afresh). Without the header the route runs as usual.
//
// The key is claimed in a transaction of its own before the handler runs and the answer is
// stored after it, so the helper wraps any handler unchanged. A process that dies between the
// handler's commit and the answer's store leaves the claim open: after a minute the next
// request with the key runs the handler again (the rare double effect every two-phase
// idempotency layer has; handlers with natural keys, such as slugs or emails, still refuse it).
class IdempotencyKeys {
 public:
  explicit IdempotencyKeys(db::Database& database) : database_(database) {}
  static void RegisterStatements(db::Database& database);

  CallHandler Wrap(CallHandler handler) const;
  // Drops keys older than 24 hours in one tenant; returns how many.
  core::Result<long long> PurgeExpired(const db::TenantScope& scope) const;

 private:
  db::Database& database_;
};

// The header's value: 1 to 255 visible ASCII characters; nullopt when absent.
core::Result<std::optional<std::string>> IdempotencyKeyOf(const http::RequestContext& context);

}  // namespace clinicore::modules
