#include "clinicore/sdk/host/deadline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace clinicore::sdk::host {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Deadlines of calls that are meant to finish: long enough that no stall of a loaded machine
// turns one into a timeout. The calls meant to time out are held until the test lets them go.
constexpr auto kAmple = 10s;

// Waits (bounded) until no abandoned call is running any more.
bool WaitUntilNoneStuck(const DeadlineExecutor& executor) {
  const auto deadline = Clock::now() + 10s;
  while (executor.stuck() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return executor.stuck() == 0;
}

TEST(DeadlineExecutorTest, RunsToCompletionAndReusesThreads) {
  DeadlineExecutor executor(2);
  int value = 0;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(executor.Run([&] { ++value; }, kAmple), DeadlineExecutor::RunResult::kFinished);
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
  EXPECT_LT(Clock::now() - start, 5s) << "the call is held until released: only the deadline ends the wait";
  EXPECT_EQ(executor.stuck(), 1);
  // Other calls still run, on another thread.
  EXPECT_EQ(executor.Run([] {}, kAmple), DeadlineExecutor::RunResult::kFinished);
  *release = true;
  EXPECT_TRUE(WaitUntilNoneStuck(executor));
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
  EXPECT_EQ(executor.Run([&] { ran = true; }, kAmple), DeadlineExecutor::RunResult::kOverloaded);
  EXPECT_FALSE(ran);
  *release = true;
  ASSERT_TRUE(WaitUntilNoneStuck(executor));
  EXPECT_EQ(executor.Run([&] { ran = true; }, kAmple), DeadlineExecutor::RunResult::kFinished);
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
  // Waited for: the thread has returned from the call once it has let go of the function (and
  // with it, of its copy of `release`); what it does after that touches only what it owns.
  const auto deadline = Clock::now() + 10s;
  while (release.use_count() > 1 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(release.use_count(), 1);
}

}  // namespace
}  // namespace clinicore::sdk::host
