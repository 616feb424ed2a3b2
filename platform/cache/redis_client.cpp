#include "platform/cache/redis_client.hpp"

#include <hiredis/hiredis.h>

#include "platform/core/log.hpp"

namespace clinicore::cache {
namespace {

constexpr const char* kRedisErrors = "clinicore_redis_errors_total";

timeval ToTimeval(core::Millis ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

RedisValue Decode(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::kString;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kStatus;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      for (size_t i = 0; i < reply->elements; ++i) value.elements.push_back(Decode(reply->element[i]));
      break;
    default:
      value.type = RedisValue::Type::kNil;
  }
  return value;
}

}  // namespace

void RedisClient::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

RedisClient::RedisClient(core::RedisConfig config, std::shared_ptr<core::Metrics> metrics)
    : config_(std::move(config)), metrics_(std::move(metrics)) {
  metrics_->DescribeCounter(kRedisErrors, "Redis commands or connects that failed.");
}

RedisClient::~RedisClient() = default;

core::Error RedisClient::Fail(const std::string& what) {
  metrics_->AddCounter(kRedisErrors, {});
  return core::Error::Unavailable("Redis is unavailable.", what);
}

core::Result<RedisClient::Context> RedisClient::Borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Context context = std::move(idle_.back());
      idle_.pop_back();
      return context;
    }
    if (std::chrono::steady_clock::now() < down_until_) return Fail("redis marked down; waiting before reconnect");
  }
  Context context(redisConnectWithTimeout(config_.host.c_str(), config_.port, ToTimeval(config_.connect_timeout)));
  if (!context || context->err) {
    const std::string what = context ? context->errstr : "cannot allocate redis context";
    std::lock_guard lock(mutex_);
    down_until_ = std::chrono::steady_clock::now() + config_.reconnect_backoff;
    return Fail("connect: " + what);
  }
  redisSetTimeout(context.get(), ToTimeval(config_.command_timeout));
  if (auto prepared = PrepareConnection(context.get(), config_); !prepared) {
    std::lock_guard lock(mutex_);
    down_until_ = std::chrono::steady_clock::now() + config_.reconnect_backoff;
    return Fail(prepared.error().internal);
  }
  return context;
}

core::Status PrepareConnection(redisContext* context, const core::RedisConfig& config) {
  using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;
  if (!config.password.empty()) {
    Reply reply(static_cast<redisReply*>(
                    config.username.empty()
                        ? redisCommand(context, "AUTH %b", config.password.data(), config.password.size())
                        : redisCommand(context, "AUTH %b %b", config.username.data(), config.username.size(),
                                       config.password.data(), config.password.size())),
                freeReplyObject);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      // Redis's own message ("WRONGPASS ...") names neither the user's password nor ours.
      return core::Error::Unavailable("Redis refused the credentials.",
                                      "auth: " + std::string(reply ? reply->str : context->errstr));
    }
  }
  if (config.database != 0) {
    Reply reply(static_cast<redisReply*>(redisCommand(context, "SELECT %d", config.database)), freeReplyObject);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return core::Error::Unavailable("Redis is unavailable.", "cannot select database");
    }
  }
  return core::Ok();
}

void RedisClient::Return(Context context) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < config_.pool_size) idle_.push_back(std::move(context));
}

core::Result<RedisValue> RedisClient::Command(const std::vector<std::string>& args) {
  auto context = Borrow();
  if (!context) return std::move(context).error();
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
      static_cast<redisReply*>(
          redisCommandArgv(context->get(), static_cast<int>(args.size()), argv.data(), lengths.data())),
      freeReplyObject);
  if (!reply) {
    // I/O error or timeout: the connection's state is unknown, so it is dropped, and a
    // Redis that hangs is treated like one that is down (no full timeout on every call).
    const std::string what = (*context)->errstr;
    std::lock_guard lock(mutex_);
    down_until_ = std::chrono::steady_clock::now() + config_.reconnect_backoff;
    return Fail("command: " + what);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string what(reply->str, reply->len);
    // Refused credentials or rights are a deployment problem, not a bug in the command:
    // callers degrade as for a Redis that is down.
    for (const char* refusal : {"NOAUTH", "WRONGPASS", "NOPERM"}) {
      if (what.rfind(refusal, 0) == 0) return Fail("refused: " + what);
    }
    Return(std::move(context).value());
    metrics_->AddCounter(kRedisErrors, {});
    return core::Error::Internal("redis error reply: " + what);
  }
  RedisValue value = Decode(reply.get());
  Return(std::move(context).value());
  return value;
}

core::Status RedisClient::Ping() {
  auto reply = Command({"PING"});
  if (!reply) return std::move(reply).error();
  return core::Ok();
}

std::string TenantKey(std::string_view tenant_id, std::string_view suffix) {
  std::string key = "{t:";
  key.append(tenant_id).append("}:").append(suffix);
  return key;
}

}  // namespace clinicore::cache
