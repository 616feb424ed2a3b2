#include "platform/modules/idempotency.hpp"

#include "platform/core/crypto.hpp"

namespace clinicore::modules {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

constexpr const char* kClaimKey = "modules.claim_idempotency_key";
constexpr const char* kSelectKey = "modules.select_idempotency_key";
constexpr const char* kStoreAnswer = "modules.store_idempotent_answer";
constexpr const char* kReleaseKey = "modules.release_idempotency_key";
constexpr const char* kPurgeKeys = "modules.purge_idempotency_keys";
constexpr size_t kMaxKeyLength = 255;

Error KeyConflict(std::string detail, std::string message) {
  return Error::Conflict(std::move(detail), {{"Idempotency-Key", std::move(message)}});
}

http::Response Replay(const pqxx::row& row) {
  http::Response response;
  response.status = row["status"].as<int>();
  response.body = row["body"].is_null() ? "" : row["body"].as<std::string>();
  if (response.body.empty()) response.content_type.clear();
  if (!row["location"].is_null()) response.headers.emplace_back("Location", row["location"].as<std::string>());
  response.headers.emplace_back("Idempotent-Replayed", "true");
  return response;
}

std::string LocationOf(const http::Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == "Location") return value;
  }
  return "";
}

}  // namespace

Result<std::optional<std::string>> IdempotencyKeyOf(const http::RequestContext& context) {
  auto key = context.raw.Header("idempotency-key");
  if (!key) return std::optional<std::string>();
  bool visible = !key->empty() && key->size() <= kMaxKeyLength;
  for (char c : *key) visible = visible && c > ' ' && c < 0x7f;
  if (!visible) {
    return Error::InvalidArgument("The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
                                  {{"Idempotency-Key", "must be 1 to 255 visible ASCII characters"}});
  }
  return key;
}

void IdempotencyKeys::RegisterStatements(db::Database& database) {
  // Taken over: a claim older than a minute without an answer (its request died) and a key
  // past its 24 hours that the purge has not dropped yet.
  database.RegisterStatement(kClaimKey,
                             "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) "
                             "ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
                             "created_at = now(), status = NULL, body = NULL, location = NULL "
                             "WHERE (idempotency_keys.status IS NULL "
                             "AND idempotency_keys.created_at < now() - interval '1 minute') "
                             "OR idempotency_keys.created_at < now() - interval '24 hours' RETURNING 1");
  database.RegisterStatement(kSelectKey,
                             "SELECT request_hash, status, body, location FROM idempotency_keys "
                             "WHERE scope = $1 AND key = $2 AND created_at > now() - interval '24 hours'");
  database.RegisterStatement(kStoreAnswer,
                             "UPDATE idempotency_keys SET status = $3, body = $4, location = NULLIF($5, '') "
                             "WHERE scope = $1 AND key = $2");
  database.RegisterStatement(kReleaseKey,
                             "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL");
  database.RegisterStatement(kPurgeKeys, "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'");
}

CallHandler IdempotencyKeys::Wrap(CallHandler handler) const {
  return [this, handler = std::move(handler)](Call& call) -> Result<http::Response> {
    CLINICORE_TRY(const auto key, IdempotencyKeyOf(call.http));
    if (!key) return handler(call);
    const std::string scope = std::string(http::MethodName(call.http.raw.method)) + " " + call.http.raw.path + " " +
                              (call.actor.id.empty() ? "anonymous" : call.actor.id);
    const std::string request_hash = core::Sha256Hex(call.http.raw.body);
    auto claimed = call.realm.Write(database_, [&](db::Transaction& tx) -> Result<std::optional<http::Response>> {
      if (!tx.Exec(kClaimKey, scope, *key, request_hash).empty()) {
        tx.Commit();
        return std::optional<http::Response>();
      }
      auto stored = tx.Exec(kSelectKey, scope, *key);
      if (stored.empty()) {  // released by its request between our two statements
        return KeyConflict("A request with this Idempotency-Key just ended; retry it.", "retry the request");
      }
      if (stored[0]["request_hash"].as<std::string>() != request_hash) {
        return KeyConflict("This Idempotency-Key was used with a different request.",
                           "already used with a different request body");
      }
      if (stored[0]["status"].is_null()) {
        return KeyConflict("A request with this Idempotency-Key is still in progress; retry shortly.",
                           "a request with this key is in progress");
      }
      tx.Commit();  // nothing was written; committing ends the transaction
      return std::optional<http::Response>(Replay(stored[0]));
    });
    if (!claimed) return std::move(claimed).error();
    if (*claimed) return std::move(**claimed);

    auto answer = handler(call);
    // A refusal changed nothing: the key is released, and a retry is judged afresh.
    const bool keep = answer && answer->status < 500;
    (void)call.realm.Write(database_, [&](db::Transaction& tx) -> core::Status {
      if (keep) {
        tx.Exec(kStoreAnswer, scope, *key, answer->status, answer->body, LocationOf(*answer));
      } else {
        tx.Exec(kReleaseKey, scope, *key);
      }
      tx.Commit();
      return core::Ok();
    });
    return answer;
  };
}

Result<long long> IdempotencyKeys::PurgeExpired(const db::TenantScope& scope) const {
  return database_.WriteInTenant(scope, [&](db::Transaction& tx) -> Result<long long> {
    const auto purged = static_cast<long long>(tx.Exec(kPurgeKeys).affected_rows());
    tx.Commit();
    return purged;
  });
}

}  // namespace clinicore::modules
