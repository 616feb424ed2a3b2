#include "tenants/crm/crm_service.hpp"

#include <algorithm>
#include <set>

#include "platform/modules/audit.hpp"

namespace clinicore::crm {
namespace {

using core::Error;
using core::Result;
using modules::Call;

constexpr int kTimelinePage = 20;
constexpr int kQuietBatch = 200;

Error NoSuchLead() {
  return Error::NotFound("No such lead.");
}
Error NoSuchTag() {
  return Error::NotFound("No such tag.");
}
Error BadField(const std::string& field, const std::string& message) {
  return Error::InvalidArgument("The field " + field + " " + message + ".", {{field, message}});
}

// The rows the caller's role may touch (see CLINICORE_LEAD_VISIBLE).
LeadScope ScopeOf(const Call& call) {
  LeadScope scope;
  if (call.HasRole("admin")) return scope;
  scope.clinic_ids = call.clinic_scope().value_or(std::vector<std::string>{});
  if (call.HasRole("salesperson")) scope.salesperson_id = call.actor.id;
  return scope;
}

Position PositionOf(const kit::PageRequest& page) {
  Position position;
  if (!page.after || page.after->size() != 2) return position;
  const auto& after = *page.after;
  if (after[0].is_string() && after[1].is_string()) {
    position.key = after[0].get<std::string>();
    position.id = after[1].get<std::string>();
  }
  return position;
}

// The clinic (and service) a lead names must be live ones of this tenant, and the caller's.
core::Status CheckPlace(db::Transaction& tx, const Call& call, const std::optional<std::string>& clinic_id,
                        const std::optional<std::string>& service_id) {
  if (!clinic_id) {
    if (service_id) return BadField("service_id", "needs a clinic_id");
    return core::Ok();
  }
  if (!call.SeesClinic(*clinic_id)) return BadField("clinic_id", "is not one of your clinics");
  const auto place = LeadStore::CheckPlace(tx, *clinic_id, service_id);
  if (!place.clinic) return BadField("clinic_id", "is not a clinic of this tenant");
  if (!place.service) return BadField("service_id", "is not a service of this clinic");
  return core::Ok();
}

// An owner is an active salesperson working at the lead's clinic (when it has one).
core::Status CheckOwner(db::Transaction& tx, const std::string& owner_id, const std::optional<std::string>& clinic_id) {
  const auto worker = LeadStore::FindWorker(tx, owner_id, clinic_id);
  if (!worker) return BadField("owner_id", "is not an active user of this tenant");
  if (worker->role != "salesperson") return BadField("owner_id", "must be a salesperson");
  if (!worker->at_clinic) return BadField("owner_id", "does not work at the lead's clinic");
  return core::Ok();
}

// The owner of a lead that arrived without one, by the tenant's crm.assignment.
std::optional<std::string> AssignedOwner(db::Transaction& tx, const CrmSettings& settings,
                                         const std::optional<std::string>& clinic_id) {
  if (!clinic_id || settings.assignment == "none") return std::nullopt;
  if (settings.assignment == "round_robin") return LeadStore::NextInTurn(tx, *clinic_id);
  return LeadStore::LeastLoaded(tx, *clinic_id);
}

nlohmann::json FollowUpPayload(db::Transaction& tx, const std::string& lead_id,
                               const std::optional<std::string>& owner_id,
                               const std::optional<std::string>& clinic_id) {
  const auto assignee = owner_id ? owner_id : LeadStore::FollowUpFallback(tx, clinic_id);
  return {{"lead_id", lead_id},
          {"owner_id", owner_id ? nlohmann::json(*owner_id) : nlohmann::json(nullptr)},
          {"clinic_id", clinic_id ? nlohmann::json(*clinic_id) : nlohmann::json(nullptr)},
          {"follow_up_assignee_id", assignee ? nlohmann::json(*assignee) : nlohmann::json(nullptr)}};
}

// What a second arrival of a lead adds to the first: the fields it lacked, newer consent.
LeadPatch MergePatch(const Lead& lead, const NewLead& draft) {
  LeadPatch patch;
  if (lead.first_name.empty() && !draft.first_name.empty()) patch.first_name = draft.first_name;
  if (lead.last_name.empty() && !draft.last_name.empty()) patch.last_name = draft.last_name;
  if (!lead.email && draft.email) patch.email = draft.email;
  if (!lead.phone && draft.phone) patch.phone = draft.phone;
  if (!lead.clinic_id && draft.clinic_id) patch.clinic_id = draft.clinic_id;
  // A service belongs to its clinic: taken only along with the clinic the lead ends up at.
  const auto clinic = lead.clinic_id ? lead.clinic_id : draft.clinic_id;
  if (!lead.service_id && draft.service_id && clinic == draft.clinic_id) patch.service_id = draft.service_id;
  if (draft.consent) patch.consent = draft.consent;
  return patch;
}

// What the second arrival said, for the timeline.
nlohmann::json ArrivalJson(const NewLead& draft) {
  auto or_null = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"first_name", draft.first_name},
          {"last_name", draft.last_name},
          {"email", or_null(draft.email)},
          {"phone", or_null(draft.phone)},
          {"source", draft.source},
          {"external_id", or_null(draft.external_id)},
          {"campaign", draft.campaign},
          {"clinic_id", or_null(draft.clinic_id)},
          {"service_id", or_null(draft.service_id)}};
}

// Changed fields of a PATCH for the timeline, without the bookkeeping ones.
nlohmann::json ChangedFields(const Lead& before, const Lead& after) {
  auto details = modules::AuditDetails(ToJson(before), ToJson(after))["changed"];
  for (const char* key : {"last_activity_at", "status", "lost_reason"}) details.erase(key);
  return details;
}

std::optional<std::string> ActorId(const Call& call) {
  if (call.actor.id.empty()) return std::nullopt;
  return call.actor.id;
}

}  // namespace

Result<CrmSettings> CrmService::GetSettings(const Call& call) {
  return database_.ReadOnceInTenant(
      call.tenant.Scope(), [&](db::Transaction& tx) -> Result<CrmSettings> { return LeadStore::LoadSettings(tx); });
}

Result<CrmSettings> CrmService::UpdateSettings(const Call& call, const SettingsPatch& patch) {
  return Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<CrmSettings> {
    const CrmSettings before = LeadStore::LoadSettings(tx);
    if (patch.dedupe_window_days) LeadStore::SaveSetting(tx, "crm.dedupe_window_days", *patch.dedupe_window_days);
    if (patch.salesperson_sees_all) LeadStore::SaveSetting(tx, "crm.salesperson_sees_all", *patch.salesperson_sees_all);
    if (patch.assignment) LeadStore::SaveSetting(tx, "crm.assignment", *patch.assignment);
    if (patch.stale_after_hours) LeadStore::SaveSetting(tx, "crm.stale_after_hours", *patch.stale_after_hours);
    const CrmSettings after = LeadStore::LoadSettings(tx);
    modules::Audit(tx, call.actor, {"crm.settings_updated", "settings", "crm", ToJson(before), ToJson(after)});
    tx.Commit();
    return after;
  }));
}

Result<Arrival> CrmService::CreateLead(const Call& call, NewLead draft) {
  if (!draft.owner_id && call.HasRole("salesperson")) draft.owner_id = call.actor.id;
  return Forgetting(
      call, jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Arrival> {
        const CrmSettings settings = LeadStore::LoadSettings(tx);
        CLINICORE_TRY_STATUS(CheckPlace(tx, call, draft.clinic_id, draft.service_id));
        if (draft.owner_id) CLINICORE_TRY_STATUS(CheckOwner(tx, *draft.owner_id, draft.clinic_id));
        // One lock per identity, in one order, so two arrivals of one person serialize here.
        std::set<std::string> identities;
        if (draft.email) identities.insert("email:" + *draft.email);
        if (draft.phone) identities.insert("phone:" + *draft.phone);
        for (const auto& identity : identities) LeadStore::LockIdentity(tx, identity);

        if (settings.dedupe_window_days > 0) {
          if (auto existing = LeadStore::FindDuplicate(tx, draft.email, draft.phone, settings.dedupe_window_days)) {
            LeadPatch patch = MergePatch(*existing, draft);
            auto merged = patch.Empty() ? existing : LeadStore::Update(tx, existing->id, patch);
            if (patch.Empty()) LeadStore::Touch(tx, existing->id);
            LeadStore::AddActivity(tx, existing->id, "merged", ActorId(call), {{"arrival", ArrivalJson(draft)}});
            modules::Audit(tx, call.actor, {"lead.merged", "lead", existing->id, ToJson(*existing), ToJson(*merged)});
            modules::Emit(jobs, "lead.merged", {{"lead_id", existing->id}, {"source", draft.source}});
            const bool visible = LeadStore::Find(tx, ScopeOf(call), existing->id).has_value();
            tx.Commit();
            return Arrival{*merged, true, visible};
          }
        }
        if (!draft.owner_id) draft.owner_id = AssignedOwner(tx, settings, draft.clinic_id);
        Lead lead = LeadStore::Insert(tx, draft);
        LeadStore::AddActivity(tx, lead.id, "created", ActorId(call),
                               {{"source", lead.source}, {"owner_id", ToJson(lead)["owner_id"]}});
        modules::Audit(tx, call.actor, {"lead.created", "lead", lead.id, nullptr, ToJson(lead)});
        auto payload = FollowUpPayload(tx, lead.id, lead.owner_id, lead.clinic_id);
        payload["source"] = lead.source;
        modules::Emit(jobs, "lead.created", payload);
        tx.Commit();
        return Arrival{std::move(lead), false};
      }));
}

template <typename Result>
Result CrmService::Forgetting(const Call& call, Result result) {
  return pages_->ForgetTenantOnSuccess(call.tenant.schema_name, std::move(result));
}

Result<std::string> CrmService::RenderLeads(const Call& call, const kit::PageRequest& page, const LeadFilter& filter,
                                            const LeadOrder& order) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<std::string> {
    auto rows = LeadStore::List(tx, ScopeOf(call), filter, order, PositionOf(page), page.limit + 1);
    const auto next = kit::TrimPage(rows, page.limit, page.list, [&](const ListedLead& lead) {
      return nlohmann::json{order.column == "updated_at" ? lead.updated_key : lead.created_key, lead.id};
    });
    std::vector<std::string> items;
    items.reserve(rows.size());
    for (auto& lead : rows) items.push_back(std::move(lead.json));
    return kit::RenderedPageBody(items, next);
  });
}

Result<std::string> CrmService::ListLeads(const Call& call, const kit::PageRequest& page, const LeadFilter& filter,
                                          const LeadOrder& order) {
  if (filter.search_pattern) return RenderLeads(call, page, filter, order);
  // The key: whose rows (scope), which list (its name carries filters and order), where.
  const LeadScope scope = ScopeOf(call);
  std::string key = scope.salesperson_id.value_or("-") + "|";
  if (scope.clinic_ids) {
    for (const auto& clinic : *scope.clinic_ids) key += clinic + ",";
  } else {
    key += "*";
  }
  key += "|" + page.list + "|" + std::to_string(page.limit) + "|" + (page.after ? page.after->dump() : "");
  CLINICORE_TRY(const auto cached,
                pages_->ReadThrough(LeadPageCache::KeyOf(call.tenant.schema_name, key),
                                    [&]() -> Result<std::optional<std::shared_ptr<const std::string>>> {
                                      CLINICORE_TRY(std::string body, RenderLeads(call, page, filter, order));
                                      return std::optional(std::make_shared<const std::string>(std::move(body)));
                                    }));
  if (!cached || !*cached) return Error::Internal("the lead page cache answered no page");
  return std::string(**cached);
}

Result<LeadDetail> CrmService::GetLead(const Call& call, const std::string& id) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<LeadDetail> {
    auto lead = LeadStore::Find(tx, ScopeOf(call), id);
    if (!lead) return NoSuchLead();
    kit::PageRequest first{kTimelinePage, std::nullopt, "timeline:" + id};
    auto rows = LeadStore::ListActivities(tx, id, {}, kTimelinePage + 1);
    auto timeline = kit::MakePage(std::move(rows), first, [](const Activity& a) {
      return nlohmann::json{a.created_key, a.id};
    });
    return LeadDetail{std::move(*lead), std::move(timeline)};
  });
}

Result<kit::Page<Activity>> CrmService::ListActivities(const Call& call, const std::string& id,
                                                       const kit::PageRequest& page) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<kit::Page<Activity>> {
    if (!LeadStore::Find(tx, ScopeOf(call), id)) return NoSuchLead();
    auto rows = LeadStore::ListActivities(tx, id, PositionOf(page), page.limit + 1);
    return kit::MakePage(std::move(rows), page, [](const Activity& a) { return nlohmann::json{a.created_key, a.id}; });
  });
}

Result<Lead> CrmService::UpdateLead(const Call& call, const std::string& id, LeadPatch patch) {
  return Forgetting(
      call, jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Lead> {
        auto before = LeadStore::Find(tx, ScopeOf(call), id, /*for_update=*/true);
        if (!before) return NoSuchLead();
        const auto clinic_id = patch.clinic_id ? *patch.clinic_id : before->clinic_id;
        const auto service_id = patch.service_id ? *patch.service_id : before->service_id;
        if (patch.clinic_id || patch.service_id) CLINICORE_TRY_STATUS(CheckPlace(tx, call, clinic_id, service_id));
        const auto email = patch.email ? *patch.email : before->email;
        const auto phone = patch.phone ? *patch.phone : before->phone;
        if (!email && !phone) {
          return BadField(patch.email ? "email" : "phone", "cannot be cleared: a lead needs an email or a phone");
        }
        const bool status_changes = patch.status && *patch.status != before->status;
        if (status_changes) CLINICORE_TRY_STATUS(CheckTransition(before->status, *patch.status));
        if (!status_changes && patch.status != "lost") patch.status.reset();
        auto after = LeadStore::Update(tx, id, patch);
        if (!after) return NoSuchLead();
        const auto actor = ActorId(call);
        if (status_changes) {
          nlohmann::json details = {{"from", before->status}, {"to", after->status}};
          if (after->lost_reason) details["lost_reason"] = *after->lost_reason;
          LeadStore::AddActivity(tx, id, "status_changed", actor, details);
          modules::Emit(jobs, "lead.status_changed",
                        {{"lead_id", id}, {"from", before->status}, {"to", after->status}});
        }
        const auto changed = ChangedFields(*before, *after);
        if (!changed.empty()) LeadStore::AddActivity(tx, id, "updated", actor, {{"changed", changed}});
        modules::Audit(tx, call.actor, {"lead.updated", "lead", id, ToJson(*before), ToJson(*after)});
        tx.Commit();
        return *after;
      }));
}

Result<Lead> CrmService::AssignLead(const Call& call, const std::string& id,
                                    const std::optional<std::string>& owner_id) {
  if (call.HasRole("salesperson") && owner_id != call.actor.id) {
    return Error::PermissionDenied("Salespeople may assign leads to themselves only.");
  }
  return Forgetting(
      call, jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Lead> {
        auto before = LeadStore::Find(tx, ScopeOf(call), id, /*for_update=*/true);
        if (!before) return NoSuchLead();
        if (call.HasRole("salesperson") && before->owner_id && before->owner_id != call.actor.id) {
          return Error::PermissionDenied("This lead has an owner already.");
        }
        if (owner_id) CLINICORE_TRY_STATUS(CheckOwner(tx, *owner_id, before->clinic_id));
        LeadPatch patch;
        patch.owner_id = owner_id;
        auto after = LeadStore::Update(tx, id, patch);
        if (!after) return NoSuchLead();
        const auto previous = ToJson(*before)["owner_id"];
        const auto owner = ToJson(*after)["owner_id"];
        LeadStore::AddActivity(tx, id, "assigned", ActorId(call), {{"from", previous}, {"to", owner}});
        modules::Audit(tx, call.actor, {"lead.assigned", "lead", id, ToJson(*before), ToJson(*after)});
        modules::Emit(jobs, "lead.assigned", {{"lead_id", id}, {"owner_id", owner}, {"previous_owner_id", previous}});
        tx.Commit();
        return *after;
      }));
}

Result<Activity> CrmService::AddNote(const Call& call, const std::string& id, const std::string& text) {
  return Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Activity> {
    if (!LeadStore::Find(tx, ScopeOf(call), id, /*for_update=*/true)) return NoSuchLead();
    auto note = LeadStore::AddActivity(tx, id, "note", ActorId(call), {{"text", text}});
    LeadStore::Touch(tx, id);
    modules::Audit(tx, call.actor, {"lead.note_added", "lead", id, nullptr, {{"note_id", note->id}}});
    tx.Commit();
    return *note;
  }));
}

core::Status CrmService::DeleteLead(const Call& call, const std::string& id) {
  return Forgetting(
      call, jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
        auto before = LeadStore::Find(tx, ScopeOf(call), id, /*for_update=*/true);
        if (!before || !LeadStore::SoftDelete(tx, id)) return NoSuchLead();
        LeadStore::AddActivity(tx, id, "deleted", ActorId(call), nlohmann::json::object());
        modules::Audit(tx, call.actor, {"lead.deleted", "lead", id, ToJson(*before), nullptr});
        modules::Emit(jobs, "lead.deleted", {{"lead_id", id}});
        tx.Commit();
        return core::Ok();
      }));
}

Result<Tag> CrmService::CreateTag(const Call& call, const std::string& name, const std::string& color) {
  return database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Tag> {
    auto tag = LeadStore::InsertTag(tx, name, color);
    if (!tag) return Error::Conflict("A tag has this name already.", {{"name", "is taken by another tag"}});
    modules::Audit(tx, call.actor, {"tag.created", "tag", tag->id, nullptr, ToJson(*tag)});
    tx.Commit();
    return *tag;
  });
}

Result<kit::Page<Tag>> CrmService::ListTags(const Call& call, const kit::PageRequest& page) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<kit::Page<Tag>> {
    return kit::MakePage(LeadStore::ListTags(tx, PositionOf(page), page.limit + 1), page, [](const Tag& t) {
      return nlohmann::json{t.name, t.id};
    });
  });
}

Result<Tag> CrmService::UpdateTag(const Call& call, const std::string& id, const std::optional<std::string>& name,
                                  const std::optional<std::string>& color) {
  return database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Tag> {
    auto before = LeadStore::FindTag(tx, id);
    if (!before) return NoSuchTag();
    if (name && LeadStore::TagNameTaken(tx, *name, id)) {
      return Error::Conflict("A tag has this name already.", {{"name", "is taken by another tag"}});
    }
    auto after = LeadStore::UpdateTag(tx, id, name, color);
    if (!after) return NoSuchTag();
    modules::Audit(tx, call.actor, {"tag.updated", "tag", id, ToJson(*before), ToJson(*after)});
    tx.Commit();
    return *after;
  });
}

core::Status CrmService::DeleteTag(const Call& call, const std::string& id) {
  return Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> core::Status {
    auto before = LeadStore::FindTag(tx, id);
    if (!before || !LeadStore::SoftDeleteTag(tx, id)) return NoSuchTag();
    modules::Audit(tx, call.actor, {"tag.deleted", "tag", id, ToJson(*before), nullptr});
    tx.Commit();
    return core::Ok();
  }));
}

Result<Lead> CrmService::TagLead(const Call& call, const std::string& lead_id, const std::string& tag_id, bool attach) {
  return Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Lead> {
    if (!LeadStore::Find(tx, ScopeOf(call), lead_id, /*for_update=*/true)) return NoSuchLead();
    auto tag = LeadStore::FindTag(tx, tag_id);
    if (!tag) return NoSuchTag();
    const bool changed = attach ? LeadStore::AttachTag(tx, lead_id, tag_id) : LeadStore::DetachTag(tx, lead_id, tag_id);
    if (changed) {
      LeadStore::AddActivity(tx, lead_id, attach ? "tagged" : "untagged", ActorId(call),
                             {{"tag_id", tag_id}, {"name", tag->name}});
      LeadStore::Touch(tx, lead_id);
      modules::Audit(tx, call.actor,
                     {attach ? "lead.tagged" : "lead.untagged", "lead", lead_id, nullptr, {{"tag_id", tag_id}}});
    }
    auto lead = LeadStore::Find(tx, ScopeOf(call), lead_id);
    tx.Commit();
    return *lead;
  }));
}

jobs::Outcome CrmService::FlagQuietLeads(jobs::JobContext& context) {
  if (context.tenant() == nullptr) return jobs::Outcome::Done();
  for (;;) {
    auto flagged = context.jobs().WriteInTenant(
        context.tenant()->Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<size_t> {
          const CrmSettings settings = LeadStore::LoadSettings(tx);
          const auto quiet = LeadStore::FlagQuietLeads(tx, settings.stale_after_hours, kQuietBatch);
          for (const auto& lead : quiet) {
            auto payload = FollowUpPayload(tx, lead.id, lead.owner_id, lead.clinic_id);
            payload["quiet_since"] = lead.quiet_since;
            payload["stale_after_hours"] = settings.stale_after_hours;
            modules::Emit(jobs, "lead.stale", payload);
          }
          tx.Commit();
          return quiet.size();
        });
    if (!flagged) return jobs::Outcome::FromError(flagged.error());
    if (*flagged < static_cast<size_t>(kQuietBatch) || context.cancelled()) return jobs::Outcome::Done();
  }
}

jobs::Outcome CrmService::RecordOnTimeline(jobs::JobContext& context, const modules::Event& event,
                                           const std::string& kind) {
  const auto lead_id = modules::PayloadString(event.payload, "lead_id");
  if (!lead_id || context.tenant() == nullptr) return jobs::Outcome::Done();
  auto recorded = database_.WriteInTenant(context.tenant()->Scope(), [&](db::Transaction& tx) -> core::Status {
    if (LeadStore::FindAnyForUpdate(tx, *lead_id)) {  // not deleted meanwhile
      nlohmann::json details = event.payload;
      details.erase("lead_id");
      LeadStore::AddActivity(tx, *lead_id, kind, std::nullopt, details, event.id);
    }
    tx.Commit();
    return core::Ok();
  });
  if (!recorded) return jobs::Outcome::FromError(recorded.error());
  return jobs::Outcome::Done();
}

namespace {

// The booking on the lead's timeline, once per event (a redelivery finds the entry and changes
// nothing), and a lead still being worked moves to booked; booked, won and lost leads keep theirs.
void RecordBooking(db::Transaction& tx, jobs::JobTx& jobs, const std::string& lead_id, const modules::Event& event) {
  auto lead = LeadStore::FindAnyForUpdate(tx, lead_id);
  if (!lead) return;
  nlohmann::json details = event.payload;
  details.erase("lead_id");
  if (!LeadStore::AddActivity(tx, lead_id, "booking", std::nullopt, details, event.id)) return;
  if (lead->status != "new" && lead->status != "contacted" && lead->status != "qualified") return;
  LeadPatch patch;
  patch.status = "booked";
  patch.by_person = false;
  LeadStore::Update(tx, lead_id, patch);
  LeadStore::AddActivity(tx, lead_id, "status_changed", std::nullopt,
                         {{"from", lead->status}, {"to", "booked"}, {"by_event", event.name}});
  modules::Audit(tx, modules::SystemActor(),
                 {"lead.updated", "lead", lead_id, {{"status", lead->status}}, {{"status", "booked"}}});
  modules::Emit(jobs, "lead.status_changed", {{"lead_id", lead_id}, {"from", lead->status}, {"to", "booked"}});
}

}  // namespace

jobs::Outcome CrmService::MarkBooked(jobs::JobContext& context, const modules::Event& event) {
  auto lead_id = modules::PayloadString(event.payload, "lead_id");
  const auto client_id = modules::PayloadString(event.payload, "client_id");
  if ((!lead_id && !client_id) || context.tenant() == nullptr) return jobs::Outcome::Done();
  auto marked = context.jobs().WriteInTenant(
      context.tenant()->Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
        if (!lead_id) lead_id = LeadStore::LeadOfClient(tx, *client_id);
        if (lead_id) RecordBooking(tx, jobs, *lead_id, event);  // none: a client who never was a lead
        tx.Commit();
        return core::Ok();
      });
  if (!marked) return jobs::Outcome::FromError(marked.error());
  return jobs::Outcome::Done();
}

}  // namespace clinicore::crm
