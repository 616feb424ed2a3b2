#include "platform/jobs/wakeups.hpp"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <memory>

#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"

namespace clinicore::jobs {

WakeupListener::WakeupListener(core::RedisConfig config, MessageFn on_message, StateFn on_state)
    : config_(std::move(config)), on_message_(std::move(on_message)), on_state_(std::move(on_state)) {}

WakeupListener::~WakeupListener() {
  Stop();
}

void WakeupListener::Start() {
  if (running_.exchange(true)) return;
  exited_ = false;
  thread_ = std::thread([this] { Run(); });
}

void WakeupListener::Stop() {
  if (!running_.exchange(false)) return;
  // Unblocks a read in progress; the thread sees running_ == false and returns. Repeated,
  // because the thread may be between connecting and reading when the flag changes.
  while (!exited_) {
    if (int fd = fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (thread_.joinable()) thread_.join();
}

void WakeupListener::Run() {
  const timeval connect_timeout{static_cast<time_t>(config_.connect_timeout.count() / 1000),
                                static_cast<suseconds_t>((config_.connect_timeout.count() % 1000) * 1000)};
  bool reported_down = false;
  while (running_) {
    std::unique_ptr<redisContext, decltype(&redisFree)> context(
        redisConnectWithTimeout(config_.host.c_str(), config_.port, connect_timeout), redisFree);
    bool subscribed = false;
    if (context && !context->err) {
      redisSetTimeout(context.get(), timeval{0, 0});  // block: Stop() shuts the socket down
      fd_ = context->fd;
      if (running_) {
        auto* reply = static_cast<redisReply*>(redisCommand(context.get(), "SUBSCRIBE %s", kWakeChannel));
        subscribed = reply != nullptr && reply->type == REDIS_REPLY_ARRAY;
        if (reply) freeReplyObject(reply);
      }
      if (subscribed) {
        core::log::Info("job_wakeups_subscribed", {{"channel", kWakeChannel}});
        reported_down = false;
        on_state_(true);
        while (running_) {
          void* raw = nullptr;
          if (redisGetReply(context.get(), &raw) != REDIS_OK || raw == nullptr) break;
          std::unique_ptr<redisReply, decltype(&freeReplyObject)> message(static_cast<redisReply*>(raw),
                                                                          freeReplyObject);
          if (message->type == REDIS_REPLY_ARRAY && message->elements == 3 &&
              message->element[2]->type == REDIS_REPLY_STRING) {
            on_message_(std::string(message->element[2]->str, message->element[2]->len));
          }
        }
      }
      fd_ = -1;
    }
    if (subscribed || !reported_down) {
      if (running_) core::log::Warn("job_wakeups_unavailable", {{"detail", "polling until Redis is back"}});
      reported_down = true;
      on_state_(false);
    }
    for (int i = 0; i < 10 && running_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  exited_ = true;
}

}  // namespace clinicore::jobs
