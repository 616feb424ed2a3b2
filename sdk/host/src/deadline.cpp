#include "clinicore/sdk/host/deadline.hpp"

namespace clinicore::sdk::host {
namespace {
// Workers left inside a plugin call that never returned, kept reachable on purpose (leak
// checkers would otherwise report them): they cannot be joined or freed.
std::vector<void*>& Graveyard() {
  static auto* graveyard = new std::vector<void*>();
  return *graveyard;
}
std::mutex& GraveyardMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}
}  // namespace

DeadlineExecutor::DeadlineExecutor(int max_stuck) : max_stuck_(max_stuck < 1 ? 1 : max_stuck) {}

DeadlineExecutor::~DeadlineExecutor() {
  std::vector<std::unique_ptr<Worker>> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
    idle_.clear();
  }
  for (auto& worker : workers) {
    bool busy = false;
    {
      std::lock_guard lock(worker->mutex);
      worker->stop = true;
      busy = worker->call != nullptr;
    }
    worker->cv.notify_one();
    if (busy) {
      // Still inside a plugin that never returned: it cannot be joined. Leave the thread and
      // its state behind; process exit ends it.
      worker->thread.detach();
      std::lock_guard graveyard_lock(GraveyardMutex());
      Graveyard().push_back(worker.release());
    } else {
      worker->thread.join();
    }
  }
}

int DeadlineExecutor::threads() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(workers_.size());
}

DeadlineExecutor::Worker* DeadlineExecutor::TakeIdle() {
  std::lock_guard lock(mutex_);
  if (!idle_.empty()) {
    Worker* worker = idle_.back();
    idle_.pop_back();
    return worker;
  }
  auto worker = std::make_unique<Worker>();
  Worker* raw = worker.get();
  raw->thread = std::thread([this, raw] { Loop(raw); });
  workers_.push_back(std::move(worker));
  return raw;
}

void DeadlineExecutor::Loop(Worker* worker) {
  while (true) {
    std::shared_ptr<Call> call;
    {
      std::unique_lock lock(worker->mutex);
      worker->cv.wait(lock, [&] { return worker->stop || worker->call != nullptr; });
      if (worker->call == nullptr) return;  // stop, and nothing to run
      call = worker->call;
    }
    std::function<void()> fn;
    {
      std::lock_guard lock(call->mutex);
      fn.swap(call->fn);
    }
    fn();
    fn = nullptr;  // release what the function owns, on this thread
    bool stop = false;
    {
      std::lock_guard lock(worker->mutex);
      worker->call = nullptr;
      stop = worker->stop;
    }
    if (!stop) {
      // Back in the pool BEFORE the caller wakes up, so a caller making calls one after the
      // other keeps using this one thread.
      std::lock_guard lock(mutex_);
      idle_.push_back(worker);
    }
    bool abandoned = false;
    {
      std::lock_guard lock(call->mutex);
      call->done = true;
      abandoned = call->abandoned;
    }
    call->done_cv.notify_one();
    if (stop) return;  // the executor is being destroyed: touch nothing more of it
    if (abandoned) stuck_.fetch_sub(1);
  }
}

DeadlineExecutor::RunResult DeadlineExecutor::Run(std::function<void()> fn, std::chrono::milliseconds timeout) {
  if (stuck_.load() >= max_stuck_) return RunResult::kOverloaded;
  auto call = std::make_shared<Call>();
  call->fn = std::move(fn);
  Worker* worker = TakeIdle();
  {
    std::lock_guard lock(worker->mutex);
    worker->call = call;
  }
  worker->cv.notify_one();
  std::unique_lock lock(call->mutex);
  if (call->done_cv.wait_for(lock, timeout, [&] { return call->done; })) return RunResult::kFinished;
  call->abandoned = true;
  stuck_.fetch_add(1);
  return RunResult::kTimedOut;
}

}  // namespace clinicore::sdk::host
