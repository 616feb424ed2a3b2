#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "platform/core/config.hpp"

namespace clinicore::jobs {

// Listens on the wake channel (kWakeChannel) on a Redis connection of its own and calls
// `on_message` for each message; `on_state(true)` when subscribed, `on_state(false)` when the
// connection is lost or cannot be made (the worker then polls at its short interval). It
// reconnects about once a second. Messages published while it was not subscribed are lost, so
// the worker rescans the queue whenever it (re)subscribes.
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
  void Run();

  core::RedisConfig config_;
  MessageFn on_message_;
  StateFn on_state_;
  std::atomic<bool> running_{false};
  std::atomic<int> fd_{-1};
  std::atomic<bool> exited_{true};
  std::thread thread_;
};

}  // namespace clinicore::jobs
