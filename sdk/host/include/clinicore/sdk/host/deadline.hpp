#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace clinicore::sdk::host {

// Runs plugin code on a small pool of threads and stops WAITING for it at a deadline.
//
// C++ cannot stop a thread that is running someone else's code, so a call that misses its
// deadline is abandoned, not killed: the caller gets kTimedOut at once and carries on, and the
// thread keeps running the plugin until it returns (then rejoins the pool). Everything the
// abandoned call touches must therefore be owned by the function itself (shared pointers,
// copies), never borrowed from the caller's stack. While `max_stuck` calls are abandoned and
// still running, new calls are refused (kOverloaded): a plugin that hangs forever costs a
// bounded number of threads, and the worker should then be restarted (its jobs are reclaimed).
// A plugin that crashes (SIGSEGV) takes the whole process down: only process isolation (the
// `work` process) contains that.
class DeadlineExecutor {
 public:
  enum class RunResult { kFinished, kTimedOut, kOverloaded };

  explicit DeadlineExecutor(int max_stuck = 8);
  ~DeadlineExecutor();
  DeadlineExecutor(const DeadlineExecutor&) = delete;
  DeadlineExecutor& operator=(const DeadlineExecutor&) = delete;

  RunResult Run(std::function<void()> fn, std::chrono::milliseconds timeout);

  int stuck() const { return stuck_.load(); }
  int threads() const;
  int max_stuck() const { return max_stuck_; }

 private:
  struct Call {
    std::function<void()> fn;
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool abandoned = false;
  };
  struct Worker {
    std::thread thread;
    std::mutex mutex;
    std::condition_variable cv;
    std::shared_ptr<Call> call;
    bool stop = false;
  };
  void Loop(Worker* worker);
  Worker* TakeIdle();

  const int max_stuck_;
  std::atomic<int> stuck_{0};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;
};

}  // namespace clinicore::sdk::host
