#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/jobs/job.hpp"
#include "platform/jobs/schedule.hpp"

namespace clinicore::jobs {

// The job kinds a worker runs and the recurring schedules it fires. Modules register theirs
// at start-up, before the worker starts (the composition root calls each module's
// registration function); the platform never names a module. Registration mistakes (a bad
// kind name, a duplicate, a schedule of an unknown kind) throw: they are start-up bugs.
class JobRegistry {
 public:
  struct Entry {
    std::shared_ptr<JobHandler> handler;
    KindOptions options;
  };

  void Register(const std::string& kind, std::shared_ptr<JobHandler> handler, KindOptions options = {});
  void Register(const std::string& kind, std::function<Outcome(JobContext&)> handler, KindOptions options = {});
  // A schedule of a registered kind: per tenant when the kind is tenant-scoped.
  void AddSchedule(Schedule schedule);

  const Entry* Find(const std::string& kind) const;
  std::vector<std::string> Kinds() const;
  const std::vector<Schedule>& schedules() const { return schedules_; }
  const Schedule* FindSchedule(const std::string& name) const;

 private:
  std::map<std::string, Entry> entries_;
  std::vector<Schedule> schedules_;
};

}  // namespace clinicore::jobs
