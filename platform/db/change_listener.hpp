#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "platform/core/config.hpp"

namespace clinicore::db {

// Listens on one PostgreSQL NOTIFY channel on a connection of its own (never a pooled one)
// and calls `on_notice` with each payload, on its own thread. `on_state(true)` once LISTEN is
// in place, `on_state(false)` when the connection is lost or cannot be made; it reconnects
// about once a second. Notices sent while it was not listening are lost, so a user of it must
// treat every `on_state` call as "anything may have changed" (a cache clears itself).
class ChangeListener {
 public:
  using NoticeFn = std::function<void(const std::string& payload)>;
  using StateFn = std::function<void(bool listening)>;

  ChangeListener(core::DatabaseConfig config, std::string channel, NoticeFn on_notice, StateFn on_state);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  void Start();
  void Stop();  // waits for the thread; at most ~0.2 s, the poll interval

 private:
  void Run();

  core::DatabaseConfig config_;
  std::string channel_;
  NoticeFn on_notice_;
  StateFn on_state_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace clinicore::db
