#include "platform/jobs/rotation.hpp"

#include <algorithm>

namespace clinicore::jobs {

void TenantRotation::MarkReady(const std::string& tenant) {
  timers_.erase(tenant);
  marked_since_plan_.insert(tenant);
  // A tenant that had nothing due goes first: it has not been served since, unlike those
  // already waiting, which were served when they last reached the front.
  if (in_ready_.insert(tenant).second) ready_.push_front(tenant);
}

void TenantRotation::MarkDueAt(const std::string& tenant, TimePoint at, TimePoint now) {
  if (at <= now) {
    MarkReady(tenant);
    return;
  }
  if (in_ready_.count(tenant) != 0) return;
  auto [it, fresh] = timers_.emplace(tenant, at);
  if (!fresh && at < it->second) it->second = at;
}

std::optional<TenantRotation::TimePoint> TenantRotation::Advance(TimePoint now) {
  std::optional<TimePoint> earliest;
  for (auto it = timers_.begin(); it != timers_.end();) {
    if (it->second <= now) {
      const std::string tenant = it->first;
      it = timers_.erase(it);
      marked_since_plan_.insert(tenant);
      if (in_ready_.insert(tenant).second) ready_.push_front(tenant);
    } else {
      if (!earliest || it->second < *earliest) earliest = it->second;
      ++it;
    }
  }
  return earliest;
}

std::vector<TenantQuota> TenantRotation::Plan(int free, const std::function<int(const std::string&)>& room,
                                              size_t max_tenants) {
  marked_since_plan_.clear();
  std::vector<TenantQuota> plan;
  std::vector<int> rooms;
  for (const std::string& tenant : ready_) {
    if (plan.size() >= max_tenants || static_cast<int>(plan.size()) >= free) break;
    const int r = room(tenant);
    if (r <= 0) continue;
    plan.push_back({tenant, 0});
    rooms.push_back(r);
  }
  // Water-filling: one slot each in queue order, then a second each, … while slots remain.
  bool progress = true;
  while (free > 0 && progress) {
    progress = false;
    for (size_t i = 0; i < plan.size() && free > 0; ++i) {
      if (plan[i].quota < rooms[i]) {
        ++plan[i].quota;
        --free;
        progress = true;
      }
    }
  }
  // Served tenants go to the back, in the order they were served.
  std::set<std::string> served;
  for (const auto& entry : plan) served.insert(entry.tenant_id);
  std::deque<std::string> rest;
  for (const std::string& tenant : ready_) {
    if (served.count(tenant) == 0) rest.push_back(tenant);
  }
  for (const auto& entry : plan) rest.push_back(entry.tenant_id);
  ready_ = std::move(rest);
  return plan;
}

void TenantRotation::Settle(const std::vector<TenantQuota>& plan, const std::map<std::string, int>& got) {
  for (const auto& entry : plan) {
    auto it = got.find(entry.tenant_id);
    const int claimed = it == got.end() ? 0 : it->second;
    if (claimed < entry.quota && marked_since_plan_.count(entry.tenant_id) == 0) Remove(entry.tenant_id);
  }
}

std::vector<std::string> TenantRotation::Front(size_t n) const {
  std::vector<std::string> front;
  for (const std::string& tenant : ready_) {
    if (front.size() >= n) break;
    front.push_back(tenant);
  }
  return front;
}

void TenantRotation::Remove(const std::string& tenant) {
  if (in_ready_.erase(tenant) != 0) ready_.erase(std::find(ready_.begin(), ready_.end(), tenant));
  timers_.erase(tenant);
}

}  // namespace clinicore::jobs
