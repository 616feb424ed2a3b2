#include "platform/cache/redis_subscription.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <memory>

#include "platform/cache/redis_client.hpp"

namespace clinicore::cache {
namespace {

using Clock = std::chrono::steady_clock;
using ReplyPtr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

bool IsKind(const redisReply* reply, const char* kind) {
  return reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 && reply->element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(reply->element[0]->str, reply->element[0]->len) == kind;
}

// Writes what redisAppendCommand queued; false when the connection failed.
bool Flush(redisContext* context) {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(context, &done) != REDIS_OK) return false;
  }
  return true;
}

}  // namespace

RedisSubscription::RedisSubscription(core::RedisConfig config, std::string channel, Handlers handlers, Timing timing)
    : config_(std::move(config)), channel_(std::move(channel)), handlers_(std::move(handlers)), timing_(timing) {}

RedisSubscription::~RedisSubscription() {
  Stop();
}

void RedisSubscription::Start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { Run(); });
}

void RedisSubscription::Stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();  // the thread polls in heartbeat steps
}

void RedisSubscription::Run() {
  const timeval connect_timeout{static_cast<time_t>(config_.connect_timeout.count() / 1000),
                                static_cast<suseconds_t>((config_.connect_timeout.count() % 1000) * 1000)};
  while (running_) {
    std::unique_ptr<redisContext, decltype(&redisFree)> context(
        redisConnectWithTimeout(config_.host.c_str(), config_.port, connect_timeout), redisFree);
    if (context && !context->err) {
      const timeval command_timeout{static_cast<time_t>(config_.command_timeout.count() / 1000),
                                    static_cast<suseconds_t>((config_.command_timeout.count() % 1000) * 1000)};
      redisSetTimeout(context.get(), command_timeout);  // AUTH and writes; reads wait in poll()
      if (PrepareConnection(context.get(), config_).ok()) Serve(context.get());
    }
    const auto resume = Clock::now() + timing_.reconnect_pause;
    while (running_ && Clock::now() < resume) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void RedisSubscription::Serve(redisContext* context) {
  redisAppendCommand(context, "SUBSCRIBE %b", channel_.data(), channel_.size());
  if (!Flush(context)) return;
  bool subscribed = false;
  auto heard = Clock::now();
  auto pinged = heard;
  while (running_) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context, &raw) != REDIS_OK) break;
    if (raw != nullptr) {
      ReplyPtr reply(static_cast<redisReply*>(raw), freeReplyObject);
      heard = Clock::now();
      if (IsKind(reply.get(), "subscribe")) {
        subscribed = true;
        if (handlers_.on_subscribed && !handlers_.on_subscribed()) break;
      } else if (IsKind(reply.get(), "message") && reply->elements == 3 && handlers_.on_message) {
        handlers_.on_message(std::string(reply->element[2]->str, reply->element[2]->len));
      }
      continue;  // drain everything already read before waiting again
    }
    const auto now = Clock::now();
    if (now - heard > timing_.silence_limit) break;
    if (now - pinged >= timing_.heartbeat) {
      redisAppendCommand(context, "PING");
      if (!Flush(context)) break;
      pinged = now;
    }
    pollfd wait{context->fd, POLLIN, 0};
    const int ready = ::poll(&wait, 1, static_cast<int>(timing_.heartbeat.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0 && redisBufferRead(context) != REDIS_OK) break;  // EOF or a socket error
  }
  if (subscribed && running_ && handlers_.on_lost) handlers_.on_lost();  // not for Stop()
}

}  // namespace clinicore::cache
