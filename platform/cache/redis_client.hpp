#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/config.hpp"
#include "platform/core/metrics.hpp"
#include "platform/core/result.hpp"

struct redisContext;

namespace clinicore::cache {

// A decoded Redis reply.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string text;  // for kString and kStatus
  std::vector<RedisValue> elements;
};

// A small pool of hiredis connections with connect and command timeouts. Connection
// failures come back as Unavailable so callers can degrade (Redis only holds short-lived
// state); after a failed connect or a command that timed out, the client fails fast for
// `reconnect_backoff` instead of making every request wait out a timeout. An error reply
// (a malformed command: a bug) is Internal. `pool_size` bounds the idle connections kept.
class RedisClient {
 public:
  RedisClient(core::RedisConfig config, std::shared_ptr<core::Metrics> metrics);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  core::Result<RedisValue> Command(const std::vector<std::string>& args);
  core::Status Ping();

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using Context = std::unique_ptr<redisContext, ContextDeleter>;

  core::Result<Context> Borrow();
  void Return(Context context);
  core::Error Fail(const std::string& what);

  core::RedisConfig config_;
  std::shared_ptr<core::Metrics> metrics_;
  std::mutex mutex_;
  std::vector<Context> idle_;
  std::chrono::steady_clock::time_point down_until_{};
};

// Makes a fresh blocking connection usable: AUTH (the ACL user and password of the URL, when
// it has them), then SELECT of the database. Unavailable, never naming the password.
core::Status PrepareConnection(redisContext* context, const core::RedisConfig& config);

// Every key of tenant data carries the tenant id as a hash tag, so a tenant's keys share
// one Redis Cluster slot and no key can be built without naming its tenant.
std::string TenantKey(std::string_view tenant_id, std::string_view suffix);

}  // namespace clinicore::cache
