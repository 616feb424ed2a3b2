#include "clinicore/sdk/host/deadline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace clinicore::sdk::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(DeadlineExecutorTest, RunsToCompletionAndReusesThreads) {
  DeadlineExecutor executor(2);
  int value = 0;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(executor.Run([&] { ++value; }, 1s), DeadlineExecutor::RunResult::kFinished);
  }
  EXPECT_EQ(value, 50);
  EXPECT_EQ(executor.threads(), 1);
}

TEST(DeadlineExecutorTest, StopsWaitingAtTheDeadlineAndCountsTheStuckCall) {
  DeadlineExecutor executor(2);
  auto release = std::make_shared<std::atomic<bool>>(false);
  const auto start = Clock::now();
  auto result = executor.Run(
      [release] {
        while (!*release) std::this_thread::sleep_for(1ms);
      },
      50ms);
  EXPECT_EQ(result, DeadlineExecutor::RunResult::kTimedOut);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(executor.stuck(), 1);
  // Other calls still run, on another thread.
  EXPECT_EQ(executor.Run([] {}, 1s), DeadlineExecutor::RunResult::kFinished);
  *release = true;
  for (int i = 0; i < 200 && executor.stuck() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(executor.stuck(), 0);
}

TEST(DeadlineExecutorTest, RefusesNewCallsWhileTooManyAreStuck) {
  DeadlineExecutor executor(2);
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto hang = [release] {
    while (!*release) std::this_thread::sleep_for(1ms);
  };
  EXPECT_EQ(executor.Run(hang, 10ms), DeadlineExecutor::RunResult::kTimedOut);
  EXPECT_EQ(executor.Run(hang, 10ms), DeadlineExecutor::RunResult::kTimedOut);
  bool ran = false;
  EXPECT_EQ(executor.Run([&] { ran = true; }, 1s), DeadlineExecutor::RunResult::kOverloaded);
  EXPECT_FALSE(ran);
  *release = true;
  for (int i = 0; i < 200 && executor.stuck() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(executor.Run([&] { ran = true; }, 1s), DeadlineExecutor::RunResult::kFinished);
  EXPECT_TRUE(ran);
}

TEST(DeadlineExecutorTest, DestroyingWithAStuckCallDoesNotHang) {
  auto release = std::make_shared<std::atomic<bool>>(false);
  {
    DeadlineExecutor executor(2);
    EXPECT_EQ(executor.Run(
                  [release] {
                    while (!*release) std::this_thread::sleep_for(1ms);
                  },
                  10ms),
              DeadlineExecutor::RunResult::kTimedOut);
  }
  *release = true;  // the abandoned thread ends on its own and touches nothing of the executor
  std::this_thread::sleep_for(20ms);
}

}  // namespace
}  // namespace clinicore::sdk::host
