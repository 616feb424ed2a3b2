#include "platform/auth/revocation_list.hpp"

#include <charconv>
#include <chrono>
#include <mutex>
#include <sstream>

#include "platform/core/log.hpp"

namespace clinicore::auth {
namespace {

using Value = cache::RedisValue;

// KEYS: list, sequence. ARGV: now, until, channel, entries... One change, one number, one
// message "<seq> <until> <entry> <entry>...": a replica that sees a number skipped knows it
// missed a change. Entries never hold spaces (hash-tagged ids, base64url and UUIDs).
constexpr const char* kDenyScript = R"lua(
local seq = redis.call('INCR', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local entries = {}
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[i])
  entries[#entries + 1] = ARGV[i]
end
redis.call('PUBLISH', ARGV[3], seq .. ' ' .. ARGV[2] .. ' ' .. table.concat(entries, ' '))
return seq
)lua";

// KEYS: list, sequence. ARGV: now. The live entries and the number they are current at, read
// at one instant.
constexpr const char* kSnapshotScript = R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local seq = redis.call('GET', KEYS[2])
if not seq then seq = '0' end
return {seq, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
)lua";

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <typename Number>
bool ParseNumber(std::string_view text, Number& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

RevocationList::RevocationList(std::shared_ptr<cache::RedisClient> redis, std::shared_ptr<core::Metrics> metrics)
    : redis_(std::move(redis)), metrics_(std::move(metrics)) {
  metrics_->DescribeCounter("clinicore_auth_revocation_checks_total",
                            "Deny-list checks by where they were answered (replica, redis, unknown).");
  metrics_->DescribeCounter("clinicore_auth_revocation_resyncs_total",
                            "Times this process reloaded the deny-list (a subscription or a gap).");
}

RevocationList::~RevocationList() {
  StopReplica();
}

core::Status RevocationList::Deny(const std::vector<std::string>& entries, int64_t until) {
  if (entries.empty()) return core::Ok();
  {
    std::unique_lock lock(mutex_);
    for (const auto& entry : entries) {
      auto& kept = denied_[entry];
      kept = std::max(kept, until);
    }
  }
  std::vector<std::string> command = {
      "EVAL", kDenyScript, "2", kListKey, kSequenceKey, std::to_string(UnixNow()), std::to_string(until), kChannel};
  command.insert(command.end(), entries.begin(), entries.end());
  auto reply = redis_->Command(command);
  if (!reply) return std::move(reply).error();
  return core::Ok();
}

RevocationList::Verdict RevocationList::Check(const std::vector<std::string>& entries, int64_t now) {
  {
    std::shared_lock lock(mutex_);
    if (in_sync_) {
      metrics_->AddCounter("clinicore_auth_revocation_checks_total", {{"source", "replica"}});
      for (const auto& entry : entries) {
        const auto it = denied_.find(entry);
        if (it != denied_.end() && it->second >= now) return Verdict::kDenied;
      }
      return Verdict::kAllowed;
    }
  }
  return CheckRedis(entries, now);
}

RevocationList::Verdict RevocationList::CheckRedis(const std::vector<std::string>& entries, int64_t now) {
  std::vector<std::string> command = {"ZMSCORE", kListKey};
  command.insert(command.end(), entries.begin(), entries.end());
  auto reply = redis_->Command(command);
  if (!reply || reply->type != Value::Type::kArray || reply->elements.size() != entries.size()) {
    metrics_->AddCounter("clinicore_auth_revocation_checks_total", {{"source", "unknown"}});
    return Verdict::kUnknown;
  }
  metrics_->AddCounter("clinicore_auth_revocation_checks_total", {{"source", "redis"}});
  for (const auto& score : reply->elements) {
    int64_t until = 0;
    if (score.type == Value::Type::kString && ParseNumber(score.text, until) && until >= now) return Verdict::kDenied;
  }
  return Verdict::kAllowed;
}

void RevocationList::StartReplica(const core::RedisConfig& config) {
  if (subscription_) return;
  subscription_ = std::make_unique<cache::RedisSubscription>(
      config, kChannel,
      cache::RedisSubscription::Handlers{[this] { return Resync(); },
                                         [this](const std::string& message) { OnMessage(message); },
                                         [this] { OnLost(); }});
  subscription_->Start();
}

void RevocationList::StopReplica() {
  if (subscription_) subscription_->Stop();
  subscription_.reset();
  OnLost();
}

bool RevocationList::InSync() const {
  std::shared_lock lock(mutex_);
  return in_sync_;
}

bool RevocationList::Resync() {
  metrics_->AddCounter("clinicore_auth_revocation_resyncs_total", {});
  const int64_t now = UnixNow();
  auto reply = redis_->Command({"EVAL", kSnapshotScript, "2", kListKey, kSequenceKey, std::to_string(now)});
  uint64_t sequence = 0;
  const bool usable = reply && reply->type == Value::Type::kArray && reply->elements.size() == 2 &&
                      ParseNumber(reply->elements[0].text, sequence) &&
                      reply->elements[1].type == Value::Type::kArray && reply->elements[1].elements.size() % 2 == 0;
  std::unique_lock lock(mutex_);
  if (!usable) {
    in_sync_ = false;
    core::log::Warn("auth_revocations_resync_failed",
                    {{"detail", reply ? "unexpected reply" : reply.error().internal}});
    return false;
  }
  // Entries this process denied itself stay: their publication may not have reached Redis.
  const auto& items = reply->elements[1].elements;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    int64_t until = 0;
    if (!ParseNumber(items[i + 1].text, until)) continue;
    auto& kept = denied_[items[i].text];
    kept = std::max(kept, until);
  }
  PruneLocked(now);
  sequence_ = sequence;
  in_sync_ = true;
  return true;
}

void RevocationList::OnMessage(const std::string& message) {
  std::istringstream words(message);
  std::string sequence_text, until_text;
  uint64_t sequence = 0;
  int64_t until = 0;
  words >> sequence_text >> until_text;
  if (!ParseNumber(sequence_text, sequence) || !ParseNumber(until_text, until)) return;
  {
    std::unique_lock lock(mutex_);
    if (in_sync_ && sequence <= sequence_) return;  // already in the snapshot
    if (in_sync_ && sequence == sequence_ + 1) {
      for (std::string entry; words >> entry;) {
        auto& kept = denied_[entry];
        kept = std::max(kept, until);
      }
      sequence_ = sequence;
      if (const int64_t now = UnixNow(); now - pruned_at_ >= 60) PruneLocked(now);
      return;
    }
    in_sync_ = false;  // a change was missed (or an earlier resync failed): read it all again
  }
  Resync();
}

void RevocationList::OnLost() {
  std::unique_lock lock(mutex_);
  in_sync_ = false;
}

void RevocationList::PruneLocked(int64_t now) {
  for (auto it = denied_.begin(); it != denied_.end();) it = it->second < now ? denied_.erase(it) : std::next(it);
  pruned_at_ = now;
}

}  // namespace clinicore::auth
