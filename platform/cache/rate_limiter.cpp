#include "platform/cache/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace clinicore::cache {
namespace {

using Clock = std::chrono::steady_clock;

// INCR with the window set on the first hit; answers {count, milliseconds left}.
constexpr const char* kHitScript = R"lua(
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
)lua";

// KEYS: failures, lock. ARGV: failure memory ms, threshold, base ms, max ms.
constexpr const char* kFailureScript = R"lua(
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local threshold = tonumber(ARGV[2])
if n < threshold then return 0 end
local lock = math.min(tonumber(ARGV[3]) * 2 ^ math.min(n - threshold, 30), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(lock))
return math.floor(lock)
)lua";

std::chrono::seconds CeilSeconds(Millis ms) {
  return std::chrono::seconds(std::max<long long>(1, (ms.count() + 999) / 1000));
}

Millis LockDuration(long long failures, const RateLimiter::Lockout& lockout) {
  if (failures < lockout.threshold) return Millis(0);
  const double factor = std::pow(2.0, static_cast<double>(std::min<long long>(failures - lockout.threshold, 30)));
  return std::min(Millis(static_cast<long long>(static_cast<double>(lockout.base.count()) * factor)), lockout.max);
}

}  // namespace

bool LocalCounters::MakeRoom() {
  if (entries_.size() < capacity_) return true;
  const auto now = Clock::now();
  for (auto it = entries_.begin(); it != entries_.end();) it = it->second.ends <= now ? entries_.erase(it) : ++it;
  return entries_.size() < capacity_;
}

std::pair<long long, Millis> LocalCounters::Hit(const std::string& key, Millis window) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.ends <= now) {
    if (it == entries_.end() && !MakeRoom()) return {std::numeric_limits<long long>::max(), window};
    it = entries_.insert_or_assign(key, Entry{0, now + window}).first;
  }
  ++it->second.count;
  return {it->second.count, std::chrono::duration_cast<Millis>(it->second.ends - now)};
}

long long LocalCounters::Count(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  return it == entries_.end() || it->second.ends <= Clock::now() ? 0 : it->second.count;
}

Millis LocalCounters::Remaining(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  const auto now = Clock::now();
  if (it == entries_.end() || it->second.ends <= now) return Millis(0);
  // Rounded up: a window with less than a millisecond left is still live, never "0 left".
  return std::chrono::ceil<Millis>(it->second.ends - now);
}

void LocalCounters::Set(const std::string& key, long long count, Millis ttl) {
  std::lock_guard lock(mutex_);
  if (entries_.count(key) == 0 && !MakeRoom()) return;
  entries_[key] = Entry{count, Clock::now() + ttl};
}

void LocalCounters::Erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

RateLimiter::RateLimiter(std::shared_ptr<RedisClient> redis, std::shared_ptr<core::Metrics> metrics,
                         size_t local_capacity)
    : redis_(std::move(redis)), metrics_(std::move(metrics)), local_(local_capacity) {
  metrics_->DescribeCounter("clinicore_rate_limited_total", "Requests refused by a rate limit or lockout.");
  metrics_->DescribeCounter("clinicore_rate_limit_fallback_total",
                            "Rate-limit checks answered in-process because Redis was unreachable.");
}

RateDecision RateLimiter::Hit(const std::string& key, RateLimit limit, WhenRedisDown fallback) {
  if (limit.limit <= 0) return {};
  long long count = 0;
  Millis left = limit.window;
  auto reply = redis_->Command({"EVAL", kHitScript, "1", key, std::to_string(limit.window.count())});
  if (reply && reply->type == RedisValue::Type::kArray && reply->elements.size() == 2) {
    count = reply->elements[0].integer;
    left = Millis(reply->elements[1].integer);
  } else {
    if (fallback == WhenRedisDown::kAllow) return {};
    metrics_->AddCounter("clinicore_rate_limit_fallback_total", {});
    std::tie(count, left) = local_.Hit(key, limit.window);
  }
  if (count <= limit.limit) return {};
  metrics_->AddCounter("clinicore_rate_limited_total", {});
  return {false, CeilSeconds(left)};
}

Millis RateLimiter::LockedFor(const std::string& key) {
  auto reply = redis_->Command({"PTTL", key + ":lock"});
  if (reply && reply->type == RedisValue::Type::kInteger) {
    return Millis(std::max<long long>(0, reply->integer));
  }
  return local_.Remaining(key + ":lock");
}

Millis RateLimiter::RecordFailure(const std::string& key, const Lockout& lockout) {
  const Millis memory = std::max(lockout.max * 2, Millis(3'600'000));
  auto reply = redis_->Command({"EVAL", kFailureScript, "2", key + ":failures", key + ":lock",
                                std::to_string(memory.count()), std::to_string(lockout.threshold),
                                std::to_string(lockout.base.count()), std::to_string(lockout.max.count())});
  if (reply && reply->type == RedisValue::Type::kInteger) return Millis(reply->integer);
  metrics_->AddCounter("clinicore_rate_limit_fallback_total", {});
  const auto [failures, unused] = local_.Hit(key + ":failures", memory);
  (void)unused;
  const Millis lock = LockDuration(failures, lockout);
  if (lock.count() > 0) local_.Set(key + ":lock", 1, lock);
  return lock;
}

void RateLimiter::RecordSuccess(const std::string& key) {
  (void)redis_->Command({"DEL", key + ":failures", key + ":lock"});
  local_.Erase(key + ":failures");
  local_.Erase(key + ":lock");
}

core::Result<int> RateLimiter::Clear(const std::string& key, const std::string& key_prefix) {
  local_.Erase(key + ":failures");
  local_.Erase(key + ":lock");
  std::vector<std::string> doomed = {key + ":failures", key + ":lock"};
  // Keys hold no glob characters but the brackets of nothing we build; escape them anyway.
  std::string pattern;
  for (char c : key_prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '*';
  std::string cursor = "0";
  do {
    auto page = redis_->Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (!page) return std::move(page).error();
    if (page->type != RedisValue::Type::kArray || page->elements.size() != 2) {
      return core::Error::Internal("unexpected SCAN reply");
    }
    cursor = page->elements[0].text;
    for (const auto& found : page->elements[1].elements) doomed.push_back(found.text);
  } while (cursor != "0");
  std::vector<std::string> command = {"DEL"};
  command.insert(command.end(), doomed.begin(), doomed.end());
  auto removed = redis_->Command(command);
  if (!removed) return std::move(removed).error();
  return static_cast<int>(removed->integer);
}

void RateLimiter::Remember(const std::string& key, Millis ttl) {
  local_.Set(key, 1, ttl);
  (void)redis_->Command({"SET", key, "1", "PX", std::to_string(ttl.count())});
}

bool RateLimiter::Remembers(const std::string& key) {
  auto reply = redis_->Command({"EXISTS", key});
  if (reply && reply->type == RedisValue::Type::kInteger) return reply->integer > 0;
  return local_.Count(key) > 0;
}

namespace {
constexpr const char* kAddScript = R"lua(
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
)lua";
}  // namespace

BatchedBudget::BatchedBudget(std::shared_ptr<RedisClient> redis, std::shared_ptr<core::Metrics> metrics, int batch,
                             Millis sync_every)
    : redis_(std::move(redis)), metrics_(std::move(metrics)), batch_(batch), sync_every_(sync_every) {}

long long BatchedBudget::Flush(const std::string& key, long long window_id, long long hits, Millis window) {
  auto reply = redis_->Command({"EVAL", kAddScript, "1", key + ":" + std::to_string(window_id), std::to_string(hits),
                                std::to_string((window * 2).count())});
  return reply && reply->type == RedisValue::Type::kInteger ? reply->integer : -1;
}

void BatchedBudget::ForgetEndedWindows(long long current_window) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    it = it->second.id < current_window ? windows_.erase(it) : std::next(it);
  }
}

RateDecision BatchedBudget::Hit(const std::string& key, RateLimit limit) {
  if (limit.limit <= 0) return {};
  const auto wall = std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch());
  const long long window_id = wall.count() / limit.window.count();
  const Millis left = limit.window - Millis(wall.count() % limit.window.count());
  const auto now = Clock::now();
  long long to_send = 0;
  long long known = 0;
  {
    std::lock_guard lock(mutex_);
    if (windows_.size() >= kMaxWindows) ForgetEndedWindows(window_id);
    Window& window = windows_[key];
    if (window.id != window_id) window = Window{window_id, 0, 0, now};
    ++window.pending;
    known = window.global + window.pending;
    if (window.pending >= batch_ || now - window.synced >= sync_every_) {
      to_send = window.pending;
      window.pending = 0;
      window.synced = now;
    }
  }
  if (to_send > 0) {
    const long long total = Flush(key, window_id, to_send, limit.window);
    std::lock_guard lock(mutex_);
    Window& window = windows_[key];
    if (window.id == window_id) {
      if (total >= 0) {
        window.global = std::max(window.global, total);
      } else {
        window.global += to_send;  // Redis is away: this process counts alone
      }
      known = window.global + window.pending;
    }
  }
  if (known <= limit.limit) return {};
  metrics_->AddCounter("clinicore_rate_limited_total", {});
  return {false, CeilSeconds(left)};
}

}  // namespace clinicore::cache
