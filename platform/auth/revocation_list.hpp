#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "platform/cache/redis_client.hpp"
#include "platform/cache/redis_subscription.hpp"
#include "platform/core/metrics.hpp"

namespace clinicore::auth {

// The access-token deny-list (decisions/0011): entries name a token (`<realm>auth:deny:<jti>`)
// or a session (`<realm>auth:deny-session:<sid>`), each carrying its tenant's hash tag, and
// are void until a time. Redis holds the list (one sorted set scored by that time, pruned as
// it is written), a sequence number bumped by every change, and a channel each change is
// published on with its number.
//
// Each `serve` process keeps a replica of the list, fed by that channel: it answers without
// a round trip while it is in sync, that is, subscribed, resynchronised from a snapshot after
// every (re)subscription, with no gap in the sequence, and heard from within the last second.
// Out of sync (a gap resynchronises; a lost or silent connection waits for the next
// subscription) every check reads Redis instead, and when Redis cannot be read either the
// verdict is kUnknown: the caller decides whether that fails closed.
class RevocationList {
 public:
  enum class Verdict { kAllowed, kDenied, kUnknown };

  RevocationList(std::shared_ptr<cache::RedisClient> redis, std::shared_ptr<core::Metrics> metrics);
  ~RevocationList();
  RevocationList(const RevocationList&) = delete;
  RevocationList& operator=(const RevocationList&) = delete;

  // Voids the entries until `until` (Unix seconds), in Redis and in this process at once.
  core::Status Deny(const std::vector<std::string>& entries, int64_t until);
  // kDenied when any entry is void at `now`.
  Verdict Check(const std::vector<std::string>& entries, int64_t now);

  void StartReplica(const core::RedisConfig& config);
  void StopReplica();
  bool InSync() const;

  static constexpr const char* kListKey = "{platform}:auth:revocations";
  static constexpr const char* kSequenceKey = "{platform}:auth:revocations:seq";
  static constexpr const char* kChannel = "clinicore:platform:revocations";

 private:
  Verdict CheckRedis(const std::vector<std::string>& entries, int64_t now);
  bool Resync();
  void OnMessage(const std::string& message);
  void OnLost();
  void PruneLocked(int64_t now);

  std::shared_ptr<cache::RedisClient> redis_;
  std::shared_ptr<core::Metrics> metrics_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, int64_t> denied_;  // entry -> void until (Unix seconds)
  uint64_t sequence_ = 0;
  bool in_sync_ = false;
  int64_t pruned_at_ = 0;
  std::unique_ptr<cache::RedisSubscription> subscription_;
};

}  // namespace clinicore::auth
