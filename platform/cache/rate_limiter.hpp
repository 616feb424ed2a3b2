#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "platform/cache/redis_client.hpp"
#include "platform/core/metrics.hpp"

namespace clinicore::cache {

using Millis = std::chrono::milliseconds;

struct RateLimit {
  int limit = 0;  // requests per window; 0 means unlimited
  Millis window{60'000};
};

struct RateDecision {
  bool allowed = true;
  std::chrono::seconds retry_after{0};
};

// What a limiter does while Redis cannot be reached.
enum class WhenRedisDown {
  kAllow,         // reads and ordinary API calls go on
  kLimitLocally,  // sign-in and sign-up: counted in this process instead (never unlimited)
};

// Fixed-window counters, per process, for when Redis is down. Bounded: when full of live
// entries it refuses new keys rather than forgetting old ones (it guards sign-in).
class LocalCounters {
 public:
  explicit LocalCounters(size_t capacity) : capacity_(capacity) {}
  // Adds one hit; returns the count in the current window and the time the window has left.
  std::pair<long long, Millis> Hit(const std::string& key, Millis window);
  long long Count(const std::string& key);
  Millis Remaining(const std::string& key);
  void Set(const std::string& key, long long count, Millis ttl);
  void Erase(const std::string& key);

 private:
  struct Entry {
    long long count = 0;
    std::chrono::steady_clock::time_point ends;
  };
  bool MakeRoom();

  size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

// Counters in Redis under keys the caller builds (tenant keys carry the tenant hash tag),
// with LocalCounters as the fallback. One round trip per check (a Lua script).
class RateLimiter {
 public:
  RateLimiter(std::shared_ptr<RedisClient> redis, std::shared_ptr<core::Metrics> metrics,
              size_t local_capacity = 100'000);

  RateDecision Hit(const std::string& key, RateLimit limit, WhenRedisDown fallback);

  // Progressive lockout of one account (the key names it): each failure counts; from the
  // threshold on, every failure locks the account for base·2^(failures−threshold), capped.
  struct Lockout {
    int threshold = 5;
    Millis base{30'000};
    Millis max{15 * 60'000};
  };
  // Remaining lock time, zero when not locked.
  Millis LockedFor(const std::string& key);
  // Records a failure; returns the lock it started (zero when none).
  Millis RecordFailure(const std::string& key, const Lockout& lockout);
  void RecordSuccess(const std::string& key);
  // Ends the lockout of `key` and of every key that starts with `key_prefix` (in Redis; the
  // per-process fallback counters end with their windows). Returns the keys removed.
  core::Result<int> Clear(const std::string& key, const std::string& key_prefix);

  // A fact kept for `ttl` (e.g. "this address signed in to this account").
  void Remember(const std::string& key, Millis ttl);
  bool Remembers(const std::string& key);

 private:
  std::shared_ptr<RedisClient> redis_;
  std::shared_ptr<core::Metrics> metrics_;
  LocalCounters local_;
};

// A coarse budget for hot paths (the whole tenant API): counted in-process and reconciled
// with Redis in batches (every `batch` hits or `sync_every`, whichever comes first), so most
// requests make no Redis round trip. Windows are aligned to the epoch, so every replica counts
// into the same Redis key; a replica can overshoot by at most one unsynced batch. While Redis
// is down each replica counts alone.
class BatchedBudget {
 public:
  BatchedBudget(std::shared_ptr<RedisClient> redis, std::shared_ptr<core::Metrics> metrics, int batch = 32,
                Millis sync_every = Millis(100));
  RateDecision Hit(const std::string& key, RateLimit limit);

 private:
  struct Window {
    long long id = -1;
    long long global = 0;   // the fleet-wide count as Redis last said
    long long pending = 0;  // hits of this process not yet sent
    std::chrono::steady_clock::time_point synced;
  };
  // Keys are many when they name client addresses: past this many, windows that have ended
  // are dropped (a window that ended never counts again).
  static constexpr size_t kMaxWindows = 50'000;
  void ForgetEndedWindows(long long current_window);
  // Sends `hits` to the window's Redis counter; the new fleet-wide count, or -1.
  long long Flush(const std::string& key, long long window_id, long long hits, Millis window);

  std::shared_ptr<RedisClient> redis_;
  std::shared_ptr<core::Metrics> metrics_;
  int batch_;
  Millis sync_every_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace clinicore::cache
