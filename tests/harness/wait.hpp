#pragma once

// Bounded waits for every test tier. A test that needs another thread or process to reach a
// state asks for that state until it holds or a deadline passes; it never sleeps a fixed time
// and hopes. Header-only and free of the harness's services, so unit tests (no I/O) use it too.

#include <chrono>
#include <thread>

namespace clinicore::testing {

// Asks `predicate` every `poll` until it holds or `timeout` has passed; its last answer. The
// timeout is a bound for a machine under load, not an expected duration: a passing wait costs
// only the time the condition takes.
template <typename Predicate>
bool WaitFor(Predicate predicate, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(poll);
  }
  return predicate();
}

}  // namespace clinicore::testing
