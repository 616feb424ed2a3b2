#include "platform/core/bounded_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace clinicore::core {

BoundedPool::BoundedPool(int threads, size_t queue_capacity, int niceness) : capacity_(queue_capacity) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this, niceness] { Run(niceness); });
}

BoundedPool::~BoundedPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

bool BoundedPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

size_t BoundedPool::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

void BoundedPool::Run(int niceness) {
  // On Linux a thread's nice value is its own (the tid names it); failing to lower it only
  // loses the preference, never work.
  if (niceness > 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), niceness);
  std::unique_lock lock(mutex_);
  while (true) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued has run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    task();  // callers keep their own exception barrier; see HttpServer
    lock.lock();
    --running_;
  }
}

}  // namespace clinicore::core
