#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "platform/core/config.hpp"

struct redisContext;

namespace clinicore::cache {

// One Redis pub/sub channel on a connection of its own, kept up by a thread that reconnects
// as needed. Redis keeps no backlog for a subscriber: whatever is published while the
// connection is down is lost, so every (re)subscription is announced (`on_subscribed`) for the
// owner to resynchronise, and every loss (`on_lost`) so it stops trusting what it holds. A
// connection that goes silent (a half-open TCP connection) counts as lost: the thread pings
// every `heartbeat` and gives up on a connection it has not heard from for `silence_limit`.
class RedisSubscription {
 public:
  struct Handlers {
    // The channel is live again; false when the owner could not use it (it failed to
    // resynchronise): the connection is dropped and made again.
    std::function<bool()> on_subscribed;
    std::function<void(const std::string&)> on_message;  // one published payload
    std::function<void()> on_lost;                       // nothing more will arrive on this connection
  };
  struct Timing {
    std::chrono::milliseconds heartbeat{250};
    std::chrono::milliseconds silence_limit{1'000};
    std::chrono::milliseconds reconnect_pause{200};
  };

  RedisSubscription(core::RedisConfig config, std::string channel, Handlers handlers, Timing timing);
  RedisSubscription(core::RedisConfig config, std::string channel, Handlers handlers)
      : RedisSubscription(std::move(config), std::move(channel), std::move(handlers), Timing{}) {}
  ~RedisSubscription();
  RedisSubscription(const RedisSubscription&) = delete;
  RedisSubscription& operator=(const RedisSubscription&) = delete;

  void Start();
  void Stop();

 private:
  void Run();
  // Reads one connection until it fails, falls silent or Stop() is called.
  void Serve(redisContext* context);

  core::RedisConfig config_;
  std::string channel_;
  Handlers handlers_;
  Timing timing_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace clinicore::cache
