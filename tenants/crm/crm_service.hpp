#pragma once

#include <memory>
#include <optional>
#include <string>

#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/job.hpp"
#include "platform/kit/page.hpp"
#include "platform/modules/events.hpp"
#include "platform/modules/route_table.hpp"
#include "tenants/crm/lead_page_cache.hpp"
#include "tenants/crm/lead_store.hpp"

namespace clinicore::crm {

struct LeadDetail {
  Lead lead;
  kit::Page<Activity> timeline;  // newest first
};

// A POST of a lead: a new one, or the live lead it matched and was merged into.
struct Arrival {
  Lead lead;
  bool merged = false;
  bool visible = true;  // whether the caller may see the lead it was merged into
};

// A change of settings: only the keys sent.
struct SettingsPatch {
  std::optional<int> dedupe_window_days;
  std::optional<bool> salesperson_sees_all;
  std::optional<std::string> assignment;
  std::optional<int> stale_after_hours;
};

// The CRM's business rules. Every change runs in one tenant transaction with its timeline
// entry, its audit row and its domain event ("lead.created", ...); reads apply the caller's
// row scope (LeadScope) in SQL.
class CrmService {
 public:
  CrmService(db::Database& database, std::shared_ptr<jobs::JobClient> jobs, std::shared_ptr<LeadPageCache> pages)
      : database_(database), jobs_(std::move(jobs)), pages_(std::move(pages)) {}

  core::Result<CrmSettings> GetSettings(const modules::Call& call);
  core::Result<CrmSettings> UpdateSettings(const modules::Call& call, const SettingsPatch& patch);

  core::Result<Arrival> CreateLead(const modules::Call& call, NewLead draft);
  // The page as its JSON answer; pages without a search come from the lead-page cache while it
  // hears PostgreSQL's change notices.
  core::Result<std::string> ListLeads(const modules::Call& call, const kit::PageRequest& page, const LeadFilter& filter,
                                      const LeadOrder& order);
  core::Result<LeadDetail> GetLead(const modules::Call& call, const std::string& id);
  core::Result<kit::Page<Activity>> ListActivities(const modules::Call& call, const std::string& id,
                                                   const kit::PageRequest& page);
  core::Result<Lead> UpdateLead(const modules::Call& call, const std::string& id, LeadPatch patch);
  core::Result<Lead> AssignLead(const modules::Call& call, const std::string& id,
                                const std::optional<std::string>& owner_id);
  core::Result<Activity> AddNote(const modules::Call& call, const std::string& id, const std::string& text);
  core::Status DeleteLead(const modules::Call& call, const std::string& id);

  core::Result<Tag> CreateTag(const modules::Call& call, const std::string& name, const std::string& color);
  core::Result<kit::Page<Tag>> ListTags(const modules::Call& call, const kit::PageRequest& page);
  core::Result<Tag> UpdateTag(const modules::Call& call, const std::string& id, const std::optional<std::string>& name,
                              const std::optional<std::string>& color);
  core::Status DeleteTag(const modules::Call& call, const std::string& id);
  core::Result<Lead> TagLead(const modules::Call& call, const std::string& lead_id, const std::string& tag_id,
                             bool attach);

  // `work`: the hourly scan that raises lead.stale for leads quiet for crm.stale_after_hours.
  jobs::Outcome FlagQuietLeads(jobs::JobContext& context);
  // `work`: other modules' events that land on a lead's timeline (task.created, task.due) or
  // move it (appointment.booked).
  jobs::Outcome RecordOnTimeline(jobs::JobContext& context, const modules::Event& event, const std::string& kind);
  jobs::Outcome MarkBooked(jobs::JobContext& context, const modules::Event& event);

 private:
  // A committed change to the tenant's leads: its cached pages go now, so the caller's next
  // read sees it (other processes hear PostgreSQL's notice).
  template <typename Result>
  Result Forgetting(const modules::Call& call, Result result);
  core::Result<std::string> RenderLeads(const modules::Call& call, const kit::PageRequest& page,
                                        const LeadFilter& filter, const LeadOrder& order);

  db::Database& database_;
  std::shared_ptr<jobs::JobClient> jobs_;
  std::shared_ptr<LeadPageCache> pages_;
};

}  // namespace clinicore::crm
