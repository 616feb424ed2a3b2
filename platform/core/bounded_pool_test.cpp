#include "platform/core/bounded_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace clinicore::core {
namespace {

TEST(BoundedPoolTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  {
    BoundedPool pool(2, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  }  // the destructor runs what is queued
  EXPECT_EQ(ran.load(), 50);
}

TEST(BoundedPoolTest, RefusesOnceTheQueueIsFullAndAcceptsAgainWhenItDrains) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  BoundedPool pool(1, 2);
  // The one thread blocks on the gate, so the next two tasks wait in the queue.
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();
  EXPECT_TRUE(pool.TrySubmit([gate] { gate.wait(); }));
  EXPECT_TRUE(pool.TrySubmit([gate] { gate.wait(); }));
  EXPECT_FALSE(pool.TrySubmit([] {})) << "a third waiting task is over the cap";
  EXPECT_EQ(pool.pending(), 3u);
  release.set_value();
  std::promise<void> later;
  // Once the queue drains there is room again (bounded wait: the pool runs in the background).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool accepted = false;
  while (!accepted && std::chrono::steady_clock::now() < deadline) {
    accepted = pool.TrySubmit([&] { later.set_value(); });
    if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(accepted);
  EXPECT_EQ(later.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

}  // namespace
}  // namespace clinicore::core
