#pragma once

#include <functional>
#include <string>

#include "platform/cache/redis_subscription.hpp"
#include "platform/core/config.hpp"

namespace clinicore::jobs {

// Listens on the wake channel (kWakeChannel) on a Redis connection of its own and calls
// `on_message` for each message; `on_state(true)` when subscribed, `on_state(false)` when the
// connection is lost (the worker then polls at its short interval; until the first
// subscription it is taken as down). It reconnects every 200 ms (cache::RedisSubscription).
// Messages published while it was not subscribed are lost, so the worker rescans the queue
// whenever it (re)subscribes.
class WakeupListener {
 public:
  using MessageFn = std::function<void(const std::string& message)>;
  using StateFn = std::function<void(bool subscribed)>;

  WakeupListener(core::RedisConfig config, MessageFn on_message, StateFn on_state);
  ~WakeupListener();
  WakeupListener(const WakeupListener&) = delete;
  WakeupListener& operator=(const WakeupListener&) = delete;

  void Start();
  void Stop();

 private:
  cache::RedisSubscription subscription_;
};

}  // namespace clinicore::jobs
