#include "platform/jobs/registry.hpp"

#include <stdexcept>

#include "platform/jobs/enqueue.hpp"

namespace clinicore::jobs {
namespace {

class FunctionHandler : public JobHandler {
 public:
  explicit FunctionHandler(std::function<Outcome(JobContext&)> fn) : fn_(std::move(fn)) {}
  Outcome Run(JobContext& context) override { return fn_(context); }

 private:
  std::function<Outcome(JobContext&)> fn_;
};

}  // namespace

void JobRegistry::Register(const std::string& kind, std::shared_ptr<JobHandler> handler, KindOptions options) {
  if (auto valid = ValidateKind(kind); !valid) throw std::invalid_argument(valid.error().detail);
  if (!handler) throw std::invalid_argument("job kind " + kind + " registered without a handler");
  if (!entries_.emplace(kind, Entry{std::move(handler), options}).second) {
    throw std::invalid_argument("job kind " + kind + " registered twice");
  }
}

void JobRegistry::Register(const std::string& kind, std::function<Outcome(JobContext&)> handler, KindOptions options) {
  Register(kind, std::make_shared<FunctionHandler>(std::move(handler)), options);
}

void JobRegistry::AddSchedule(Schedule schedule) {
  if (auto valid = ValidateKind(schedule.name); !valid) {
    throw std::invalid_argument("schedule name " + schedule.name + ": " + valid.error().detail);
  }
  if (Find(schedule.kind) == nullptr) {
    throw std::invalid_argument("schedule " + schedule.name + " enqueues unregistered kind " + schedule.kind);
  }
  if (FindSchedule(schedule.name) != nullptr) {
    throw std::invalid_argument("schedule " + schedule.name + " registered twice");
  }
  schedules_.push_back(std::move(schedule));
}

const JobRegistry::Entry* JobRegistry::Find(const std::string& kind) const {
  auto it = entries_.find(kind);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> JobRegistry::Kinds() const {
  std::vector<std::string> kinds;
  for (const auto& [kind, entry] : entries_) kinds.push_back(kind);
  return kinds;
}

const Schedule* JobRegistry::FindSchedule(const std::string& name) const {
  for (const auto& schedule : schedules_) {
    if (schedule.name == name) return &schedule;
  }
  return nullptr;
}

}  // namespace clinicore::jobs
