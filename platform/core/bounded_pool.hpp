#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace clinicore::core {

// A fixed set of threads with a capped queue, for CPU-heavy work that must not run on the
// threads it would stall (Argon2id on the HTTP I/O threads). TrySubmit refuses instead of
// queueing without bound, so a flood costs the caller a fast refusal, never memory or time.
class BoundedPool {
 public:
  // `niceness` > 0 lowers the threads' scheduling priority (Linux nice, per thread), so the
  // threads they must not stall are scheduled first whenever both want a core.
  BoundedPool(int threads, size_t queue_capacity, int niceness = 0);
  ~BoundedPool();  // runs what is queued, then joins
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // False when `queue_capacity` tasks are already waiting; the task is then not run.
  bool TrySubmit(std::function<void()> task);
  // Tasks queued or running.
  size_t pending() const;

 private:
  void Run(int niceness);

  size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace clinicore::core
