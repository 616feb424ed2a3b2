#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace clinicore::jobs {

// How many jobs one claim asks of one tenant.
struct TenantQuota {
  std::string tenant_id;
  int quota = 0;
};

// The worker's view of which tenants have due work, and whose turn it is: the fairness
// mechanism. Tenants with due work wait in a round-robin queue; each claim spreads the free
// slots over the tenants at the front, one slot each before anyone gets a second, bounded by
// what each tenant may still run (its concurrency limit), and sends the tenants it served to
// the back. A tenant that newly has work joins at the front. A tenant with 100 000 due jobs
// therefore gets its turn like a tenant with one, and a newly due tenant is served by the
// next claim that has a free slot.
//
// Knowledge comes from wakeups (a commit enqueued work for a tenant), from the periodic
// discovery query (every tenant with available jobs and its earliest run_at) and from the
// worker's own outcomes (a retry's run_at, a finished job that may have a successor). Timers
// hold tenants whose next job is due later. Not thread-safe: the worker guards it.
class TenantRotation {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // The tenant has (or may have) work due now. A tenant not in the queue joins at the front
  // (it has not been served since it last had work); one already in it keeps its place.
  void MarkReady(const std::string& tenant);
  // The tenant's next job is due at `at`: a timer, unless it is already ready.
  void MarkDueAt(const std::string& tenant, TimePoint at, TimePoint now);
  // Moves tenants whose timer has passed into the queue; returns the earliest pending timer.
  std::optional<TimePoint> Advance(TimePoint now);

  // Spreads `free` slots over ready tenants in queue order; `room(tenant)` is how many more
  // jobs the tenant may run (≤ 0: skipped this round, keeps its place). Served tenants move to
  // the back. At most `max_tenants` tenants per plan.
  std::vector<TenantQuota> Plan(int free, const std::function<int(const std::string&)>& room, size_t max_tenants);
  // After the claim: a tenant that got fewer jobs than asked has nothing more due now and
  // leaves the queue (a wakeup, a timer or the next discovery brings it back).
  void Settle(const std::vector<TenantQuota>& plan, const std::map<std::string, int>& got);
  // Forgets a tenant entirely (unknown, suspended).
  void Remove(const std::string& tenant);

  // The first `n` ready tenants in queue order (those the next plan will look at).
  std::vector<std::string> Front(size_t n) const;

  bool HasReady() const { return !ready_.empty(); }
  size_t ready_count() const { return ready_.size(); }
  size_t timer_count() const { return timers_.size(); }
  bool IsReady(const std::string& tenant) const { return in_ready_.count(tenant) != 0; }

 private:
  std::deque<std::string> ready_;
  std::set<std::string> in_ready_;
  std::map<std::string, TimePoint> timers_;  // tenant → when its next job is due
  // Wakeups that arrived while a claim for the tenant was in flight must survive Settle.
  std::set<std::string> marked_since_plan_;
};

}  // namespace clinicore::jobs
