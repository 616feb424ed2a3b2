#include "tenants/booking/booking_service.hpp"

#include "platform/core/crypto.hpp"
#include "platform/kit/validators.hpp"
#include "platform/modules/audit.hpp"

namespace clinicore::booking {
namespace {

using core::Error;
using core::Result;
using modules::Call;
using std::chrono::hours;
using std::chrono::minutes;

using Loaded = LoadedSchedule;

Error BadField(const std::string& field, const std::string& message) {
  return Error::InvalidArgument("The field " + field + " " + message + ".", {{field, message}});
}
Error ConflictOn(const std::string& field, const std::string& message) {
  return Error::Conflict("The field " + field + " " + message + ".", {{field, message}});
}
Error NoSuchAppointment() {
  return Error::NotFound("No such appointment.");
}

bool IsClient(const Call& call) {
  return call.HasRole("client");
}

// Who may see an appointment: a client their own, a doctor their own, staff their clinics'.
bool Sees(const Call& call, const Appointment& a) {
  if (IsClient(call)) return a.client_id == call.actor.id;
  if (call.HasRole("doctor")) return a.practitioner_id == call.actor.id && call.SeesClinic(a.clinic_id);
  return call.SeesClinic(a.clinic_id);
}

Instant ToInstant(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}
Instant Now() {
  return ToInstant(std::chrono::system_clock::now());
}
Instant Epoch(const nlohmann::json& seconds) {
  return Instant{std::chrono::seconds{seconds.get<long long>()}};
}

std::vector<Span> Spans(const nlohmann::json& pairs) {
  std::vector<Span> spans;
  for (const auto& pair : pairs) spans.push_back({Epoch(pair.at(0)), Epoch(pair.at(1))});
  return spans;
}

kit::WeeklyHours StoredHours(const nlohmann::json& value) {
  auto hours = kit::ParseWeeklyHours(value, "hours");  // validated when written
  return hours ? *hours : kit::WeeklyHours{};
}

Result<Loaded> ParseSchedule(const nlohmann::json& doc) {
  if (doc.at("clinic").is_null()) return BadField("clinic_id", "is not a live clinic of this tenant");
  if (doc.at("service").is_null()) return BadField("service_id", "is not a live service of this clinic");
  Loaded loaded;
  auto& s = loaded.schedule;
  const auto& clinic = doc.at("clinic");
  try {
    s.zone = date::locate_zone(clinic.at("time_zone").get<std::string>());
  } catch (const std::exception& failure) {
    return Error::Internal(std::string("clinic time zone: ") + failure.what());
  }
  s.opening_hours = StoredHours(clinic.at("opening_hours"));
  const auto& service = doc.at("service");
  s.service.duration_minutes = service.at("duration_minutes").get<int>();
  s.service.buffer_before_minutes = service.at("buffer_before_minutes").get<int>();
  s.service.buffer_after_minutes = service.at("buffer_after_minutes").get<int>();
  s.service.resource_kinds = service.at("resource_kinds").get<std::vector<std::string>>();
  for (const auto& closure : doc.at("closures")) {
    auto first = kit::ParseLocalDate(closure.at(0).get<std::string>(), "closure");
    auto last = kit::ParseLocalDate(closure.at(1).get<std::string>(), "closure");
    if (first && last) s.closures.push_back({*first, *last});
  }
  for (const auto& p : doc.at("practitioners")) {
    s.practitioners.push_back(
        {p.at("id").get<std::string>(), StoredHours(p.at("working_hours")), Spans(p.at("time_off")), {}});
  }
  for (const auto& r : doc.at("resources")) s.resources.push_back({r.at("id"), r.at("kind"), {}});
  for (const auto& claim : doc.at("busy")) {
    const auto subject = claim.at(0).get<std::string>();
    const Span span{Epoch(claim.at(1)), Epoch(claim.at(2)),
                    claim.at(3).is_null() ? Instant::max() : Epoch(claim.at(3))};
    for (auto& p : s.practitioners) {
      if (p.id == subject) p.busy.push_back(span);
    }
    for (auto& r : s.resources) {
      if (r.id == subject) r.busy.push_back(span);
    }
  }
  loaded.settings = SettingsFrom(doc.at("settings"));
  return loaded;
}

SlotRules RulesOf(const Loaded& loaded, Instant now) {
  const auto& s = loaded.settings;
  return {s.slot_step_minutes, now + minutes{s.min_notice_minutes}, now + hours{24 * s.horizon_days}, now};
}

Error StartError(StartCheck check, const BookingSettings& s) {
  switch (check) {
    case StartCheck::kOffGrid:
      return BadField("start", "must lie on the clinic's " + std::to_string(s.slot_step_minutes) + "-minute grid");
    case StartCheck::kOutsideHours:
      return BadField("start", "is outside the practitioner's hours at this clinic");
    case StartCheck::kTooSoon:
      return BadField("start", "must be at least " + std::to_string(s.min_notice_minutes) + " minutes from now");
    case StartCheck::kTooFar:
      return BadField("start", "is beyond the booking horizon of " + std::to_string(s.horizon_days) + " days");
    case StartCheck::kOk:
      break;
  }
  return Error::Internal("no start error");
}

// The schedule around a requested time, checked: the practitioner performs the service there,
// and the start is one of their slots (occupancy aside: the claim decides that).
Result<Loaded> LoadChecked(db::Transaction& tx, const TimeRequest& request) {
  const auto utc_day = kit::FormatLocalDate(date::year_month_day{std::chrono::floor<date::days>(request.start)});
  CLINICORE_TRY(auto loaded, ParseSchedule(BookingStore::LoadSchedule(tx, request.clinic_id, request.service_id,
                                                                      request.practitioner_id, utc_day, utc_day,
                                                                      /*with_claims=*/false)));
  if (loaded.schedule.practitioners.empty()) {
    return BadField("practitioner_id", "does not perform this service at this clinic");
  }
  const auto check =
      CheckStart(loaded.schedule, loaded.schedule.practitioners.front(), request.start, RulesOf(loaded, Now()));
  if (check != StartCheck::kOk) return StartError(check, loaded.settings);
  return loaded;
}

Error ClaimConflict(const std::string& conflict) {
  if (conflict == "practitioner") return ConflictOn("practitioner_id", "is already booked at that time");
  return ConflictOn("start", "has no free " + conflict + " at that time");
}

// Claims the time of `request` for an owner; the resources taken, or the conflict.
Result<std::vector<std::string>> ClaimFor(db::Transaction& tx, const Loaded& loaded, const TimeRequest& request,
                                          const std::string& owner_id, const std::optional<std::string>& expires_at) {
  const Span busy = BusySpan(loaded.schedule.service, request.start);
  auto claim = BookingStore::ClaimTime(tx, {owner_id, expires_at, request.practitioner_id, request.clinic_id,
                                            request.service_id, UtcText(busy.from), UtcText(busy.to)});
  if (claim.conflict) return ClaimConflict(*claim.conflict);
  return claim.resource_ids;
}

core::Status CheckClient(db::Transaction& tx, const std::string& client_id) {
  if (BookingStore::AccountRole(tx, client_id) != std::optional<std::string>("client")) {
    return BadField("client_id", "is not an active client of this tenant");
  }
  return core::Ok();
}

nlohmann::json EventPayload(const Appointment& a) {
  return {{"appointment_id", a.id},
          {"clinic_id", a.clinic_id},
          {"service_id", a.service_id},
          {"practitioner_id", a.practitioner_id},
          {"client_id", a.client_id},
          {"start", a.start},
          {"end", a.end},
          {"status", a.status}};
}

// The reminders of an appointment's current start: 24 hours before, and the tenant's second
// one. A reminder whose time has passed is not planned; one planned for an earlier start finds
// the start changed when it runs and does nothing.
core::Status PlanReminders(jobs::JobTx& jobs, const Appointment& a, const BookingSettings& settings, Instant now) {
  CLINICORE_TRY(const auto start, kit::ParseInstant(a.start, "start"));
  std::vector<int> lead_hours = {24};
  if (settings.second_reminder_hours && *settings.second_reminder_hours != 24) {
    lead_hours.push_back(*settings.second_reminder_hours);
  }
  for (const int lead : lead_hours) {
    const auto at = start - hours{lead};
    if (ToInstant(at) <= now) continue;
    CLINICORE_TRY_STATUS(jobs.Enqueue(
        kReminderKind, {{"appointment_id", a.id}, {"start", a.start}, {"hours_before", lead}},
        {.run_at = at, .idempotency_key = "reminder:" + a.id + ":" + a.start + ":" + std::to_string(lead)}));
  }
  return core::Ok();
}

// A client changes or cancels online only up to the tenant's window before the start.
core::Status CheckClientWindow(const Call& call, const Appointment& a, const BookingSettings& settings) {
  if (!IsClient(call)) return core::Ok();
  CLINICORE_TRY(const auto start, kit::ParseInstant(a.start, "start"));
  if (ToInstant(start) - Now() < hours{settings.cancel_window_hours}) {
    return ConflictOn("start", "is less than " + std::to_string(settings.cancel_window_hours) +
                                   " hours away; the clinic can still change it");
  }
  return core::Ok();
}

core::Status CheckBooked(const Appointment& a, const char* action) {
  if (a.status == "booked") return core::Ok();
  return ConflictOn("status", "is " + a.status + "; only a booked appointment can be " + action);
}

// Writes a booked appointment with its audit row, its event and its reminders.
Result<Appointment> Record(db::Transaction& tx, jobs::JobTx& jobs, const modules::Actor& actor,
                           const Appointment& draft, const BookingSettings& settings) {
  auto booked = BookingStore::InsertAppointment(tx, draft);
  modules::Audit(tx, actor, {"appointment.booked", "appointment", booked.id, nullptr, ToJson(booked)});
  modules::Emit(jobs, "appointment.booked", EventPayload(booked));
  CLINICORE_TRY_STATUS(PlanReminders(jobs, booked, settings, Now()));
  return booked;
}

// A staff booking of a time (also each occurrence of a series), uncommitted.
Result<Appointment> BookTime(db::Transaction& tx, jobs::JobTx& jobs, const modules::Actor& actor,
                             const TimeRequest& time, const std::string& client_id, const std::string& notes,
                             const std::optional<std::string>& series_id) {
  CLINICORE_TRY_STATUS(CheckClient(tx, client_id));
  CLINICORE_TRY(const auto loaded, LoadChecked(tx, time));
  Appointment draft;
  draft.id = core::NewUuid();
  CLINICORE_TRY(draft.resource_ids, ClaimFor(tx, loaded, time, draft.id, std::nullopt));
  draft.client_id = client_id;
  draft.clinic_id = time.clinic_id;
  draft.service_id = time.service_id;
  draft.practitioner_id = time.practitioner_id;
  draft.start = UtcText(time.start);
  draft.end = UtcText(time.start + minutes{loaded.schedule.service.duration_minutes});
  draft.notes = notes;
  if (!actor.id.empty()) draft.booked_by = actor.id;
  draft.series_id = series_id;
  return Record(tx, jobs, actor, draft, loaded.settings);
}

// A booking of a hold by its client or by staff, uncommitted: the hold's claims become the
// appointment's, so its time and resources are never free in between.
Result<Appointment> BookHold(db::Transaction& tx, jobs::JobTx& jobs, const Call& call, const BookingRequest& request) {
  const auto hold = BookingStore::FindHoldForUpdate(tx, *request.hold_id);
  const bool mine = hold && (IsClient(call) ? hold->held_by == call.actor.id : call.SeesClinic(hold->clinic_id));
  if (!mine) return BadField("hold_id", "is not a hold of yours");
  if (hold->settled_at) return ConflictOn("hold_id", "has expired or was used already");
  Appointment draft;
  if (IsClient(call)) {
    draft.client_id = call.actor.id;
  } else if (BookingStore::AccountRole(tx, hold->held_by) == std::optional<std::string>("client")) {
    if (request.client_id && *request.client_id != hold->held_by) {
      return BadField("client_id", "must be the client who placed the hold");
    }
    draft.client_id = hold->held_by;
  } else if (request.client_id) {
    draft.client_id = *request.client_id;
  } else {
    return BadField("client_id", "is required to book a hold placed by staff");
  }
  CLINICORE_TRY_STATUS(CheckClient(tx, draft.client_id));
  draft.id = core::NewUuid();
  if (!BookingStore::TransferHoldClaims(tx, hold->id, draft.id)) return ConflictOn("hold_id", "has expired");
  BookingStore::SettleHold(tx, hold->id);
  draft.clinic_id = hold->clinic_id;
  draft.service_id = hold->service_id;
  draft.practitioner_id = hold->practitioner_id;
  draft.start = hold->start;
  draft.end = hold->end;
  draft.resource_ids = hold->resource_ids;
  draft.hold_id = hold->id;
  draft.notes = request.notes;
  draft.booked_by = call.actor.id;
  return Record(tx, jobs, call.actor, draft, SettingsFrom(BookingStore::LoadSettings(tx)));
}

// The starts of a series: the first start's local wall time every `every_weeks` weeks (so
// 10:00 stays 10:00 across a clock change), `count` of them or up to `until`.
Result<std::vector<Instant>> SeriesStarts(const date::time_zone* zone, const SeriesRequest& request) {
  const auto first = date::make_zoned(zone, request.first.start).get_local_time();
  std::vector<Instant> starts;
  for (int k = 0; k <= kMaxOccurrences; ++k) {
    const auto local = first + date::days{7 * request.every_weeks * k};
    const date::year_month_day day{std::chrono::floor<date::days>(local)};
    if (request.count && k >= *request.count) break;
    if (request.until && date::sys_days{day} > date::sys_days{*request.until}) break;
    if (k == kMaxOccurrences) return BadField("rule.until", "allows more than 52 occurrences");
    starts.push_back(date::make_zoned(zone, local, date::choose::earliest).get_sys_time());
  }
  return starts;
}

}  // namespace

// The writer's next read must see its own change; other servers hear PostgreSQL's notice.
template <typename Result>
Result BookingService::Forgetting(const Call& call, Result result) {
  return schedules_->ForgetTenantOnSuccess(call.tenant.schema_name, std::move(result));
}

Result<std::string> BookingService::Availability(const Call& call, const AvailabilityQuery& query) {
  const std::string from = kit::FormatLocalDate(query.from), to = kit::FormatLocalDate(query.to);
  const std::string key =
      ScheduleCache::KeyOf(call.tenant.schema_name, query.clinic_id + "|" + query.service_id + "|" +
                                                        query.practitioner_id.value_or("") + "|" + from + "|" + to);
  using Kept = std::optional<std::shared_ptr<const Loaded>>;
  CLINICORE_TRY(const Kept kept, schedules_->ReadThrough(key, [&]() -> Result<Kept> {
    return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Kept> {
      CLINICORE_TRY(auto loaded, ParseSchedule(BookingStore::LoadSchedule(tx, query.clinic_id, query.service_id,
                                                                          query.practitioner_id, from, to,
                                                                          /*with_claims=*/true)));
      return Kept(std::make_shared<const Loaded>(std::move(loaded)));
    });
  }));
  if (!kept || !*kept) return Error::Internal("availability: no schedule");
  const Loaded& loaded = **kept;
  if (query.practitioner_id && loaded.schedule.practitioners.empty()) {
    return BadField("practitioner_id", "does not perform this service at this clinic");
  }
  return SlotsJson(loaded.schedule.zone, FreeSlots(loaded.schedule, query.from, query.to, RulesOf(loaded, Now())));
}

Result<Hold> BookingService::PlaceHold(const Call& call, const TimeRequest& request) {
  if (!call.SeesClinic(request.clinic_id)) return BadField("clinic_id", "is not a clinic of yours");
  return Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Hold> {
    CLINICORE_TRY(const auto loaded, LoadChecked(tx, request));
    Hold hold;
    hold.id = core::NewUuid();
    hold.clinic_id = request.clinic_id;
    hold.service_id = request.service_id;
    hold.practitioner_id = request.practitioner_id;
    hold.held_by = call.actor.id;
    hold.start = UtcText(request.start);
    hold.end = UtcText(request.start + minutes{loaded.schedule.service.duration_minutes});
    hold.expires_at = kit::FormatInstant(std::chrono::system_clock::now() + minutes{loaded.settings.hold_minutes});
    CLINICORE_TRY(hold.resource_ids, ClaimFor(tx, loaded, request, hold.id, hold.expires_at));
    auto placed = BookingStore::InsertHold(tx, hold);
    tx.Commit();
    return placed;
  }));
}

core::Status BookingService::ReleaseHold(const Call& call, const std::string& id) {
  auto released =
      Forgetting(call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> core::Status {
        const auto hold = BookingStore::FindHoldForUpdate(tx, id);
        const bool mine = hold && (IsClient(call) ? hold->held_by == call.actor.id : call.SeesClinic(hold->clinic_id));
        if (!mine) return Error::NotFound("No such hold.");
        BookingStore::ReleaseClaims(tx, id);
        BookingStore::SettleHold(tx, id);
        tx.Commit();
        return core::Ok();
      }));
  if (!released) return released.error();
  return core::Ok();
}

Result<Appointment> BookingService::Book(const Call& call, const BookingRequest& request) {
  if (IsClient(call) && !request.hold_id) return BadField("hold_id", "is required: clients book a hold they placed");
  if (request.time && !call.SeesClinic(request.time->clinic_id)) {
    return BadField("clinic_id", "is not a clinic of yours");
  }
  return Forgetting(
      call,
      jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Appointment> {
        Result<Appointment> booked = request.hold_id     ? BookHold(tx, jobs, call, request)
                                     : request.client_id ? BookTime(tx, jobs, call.actor, *request.time,
                                                                    *request.client_id, request.notes, std::nullopt)
                                                         : Result<Appointment>(BadField("client_id", "is required"));
        if (booked) tx.Commit();
        return booked;
      }));
}

Result<kit::Page<Appointment>> BookingService::ListAppointments(const Call& call, const kit::PageRequest& page,
                                                                AppointmentFilter filter) {
  if (IsClient(call)) filter.client_id = call.actor.id;
  if (call.HasRole("doctor")) filter.practitioner_id = call.actor.id;
  filter.clinic_ids = call.clinic_scope();
  std::optional<std::string> after_key, after_id;
  if (page.after && page.after->size() == 2 && (*page.after)[0].is_string() && (*page.after)[1].is_string()) {
    after_key = (*page.after)[0].get<std::string>();
    after_id = (*page.after)[1].get<std::string>();
  }
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<kit::Page<Appointment>> {
    return kit::MakePage(BookingStore::ListAppointments(tx, filter, after_key, after_id, page.limit + 1), page,
                         [](const Appointment& a) {
                           return nlohmann::json{a.start_key, a.id};
                         });
  });
}

Result<Appointment> BookingService::GetAppointment(const Call& call, const std::string& id) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Appointment> {
    auto found = BookingStore::FindAppointment(tx, id);
    if (!found || !Sees(call, *found)) return NoSuchAppointment();
    return *found;
  });
}

Result<Appointment> BookingService::Reschedule(const Call& call, const std::string& id, Instant start,
                                               const std::optional<std::string>& practitioner_id) {
  return Forgetting(
      call,
      jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Appointment> {
        auto before = BookingStore::FindAppointment(tx, id, /*for_update=*/true);
        if (!before || !Sees(call, *before)) return NoSuchAppointment();
        CLINICORE_TRY_STATUS(CheckBooked(*before, "rescheduled"));
        const TimeRequest time{before->clinic_id, before->service_id, practitioner_id.value_or(before->practitioner_id),
                               start};
        CLINICORE_TRY(const auto loaded, LoadChecked(tx, time));
        CLINICORE_TRY_STATUS(CheckClientWindow(call, *before, loaded.settings));
        // The old time is freed in this transaction: a conflict rolls both back and keeps it.
        BookingStore::ReleaseClaims(tx, id);
        CLINICORE_TRY(const auto resources, ClaimFor(tx, loaded, time, id, std::nullopt));
        auto after = BookingStore::MoveAppointment(tx, id, time.practitioner_id, UtcText(start),
                                                   UtcText(start + minutes{loaded.schedule.service.duration_minutes}),
                                                   resources);
        modules::Audit(tx, call.actor, {"appointment.rescheduled", "appointment", id, ToJson(*before), ToJson(after)});
        auto payload = EventPayload(after);
        payload["previous_start"] = before->start;
        payload["previous_practitioner_id"] = before->practitioner_id;
        modules::Emit(jobs, "appointment.rescheduled", payload);
        CLINICORE_TRY_STATUS(PlanReminders(jobs, after, loaded.settings, Now()));
        tx.Commit();
        return after;
      }));
}

Result<Appointment> BookingService::Cancel(const Call& call, const std::string& id, const std::string& reason) {
  return ChangeStatus(call, id, {"cancelled", reason, std::nullopt, std::nullopt, std::nullopt});
}

Result<Appointment> BookingService::Complete(const Call& call, const std::string& id, long long amount_paid_minor,
                                             const std::string& currency, const std::optional<std::string>& notes) {
  return ChangeStatus(call, id, {"completed", std::nullopt, amount_paid_minor, currency, notes});
}

Result<Appointment> BookingService::MarkNoShow(const Call& call, const std::string& id) {
  return ChangeStatus(call, id, {"no_show", std::nullopt, std::nullopt, std::nullopt, std::nullopt});
}

Result<Appointment> BookingService::ChangeStatus(const Call& call, const std::string& id, StatusChange change) {
  return Forgetting(
      call,
      jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Appointment> {
        auto before = BookingStore::FindAppointment(tx, id, /*for_update=*/true);
        if (!before || !Sees(call, *before)) return NoSuchAppointment();
        const char* action = change.status == "cancelled" ? "cancelled" : "closed";
        CLINICORE_TRY_STATUS(CheckBooked(*before, action));
        if (change.status == "cancelled") {
          CLINICORE_TRY_STATUS(CheckClientWindow(call, *before, SettingsFrom(BookingStore::LoadSettings(tx))));
          BookingStore::ReleaseClaims(tx, id);  // the time is free again at once
        }
        if (change.status == "no_show") {
          CLINICORE_TRY(const auto start, kit::ParseInstant(before->start, "start"));
          if (ToInstant(start) > Now()) return ConflictOn("start", "has not come yet");
        }
        auto after = BookingStore::ChangeStatus(tx, id, change);
        modules::Audit(tx, call.actor,
                       {"appointment." + change.status, "appointment", id, ToJson(*before), ToJson(after)});
        auto payload = EventPayload(after);
        if (change.status == "cancelled") payload["reason"] = *change.cancel_reason;
        if (change.status == "completed") {
          payload["amount_paid_minor"] = *change.amount_paid_minor;
          payload["currency"] = *change.currency;
        }
        modules::Emit(jobs, "appointment." + change.status, payload);
        tx.Commit();
        return after;
      }));
}

Result<std::string> BookingService::CreateSeries(const Call& call, const SeriesRequest& request) {
  if (!call.SeesClinic(request.first.clinic_id)) return BadField("clinic_id", "is not a clinic of yours");
  return jobs_->WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<std::string> {
    CLINICORE_TRY_STATUS(CheckClient(tx, request.client_id));
    CLINICORE_TRY(const auto loaded, LoadChecked(tx, request.first));  // the first must be bookable
    CLINICORE_TRY(const auto starts, SeriesStarts(loaded.schedule.zone, request));
    if (starts.empty()) return BadField("rule.until", "must not be before the first start");
    Series series;
    series.id = core::NewUuid();
    series.clinic_id = request.first.clinic_id;
    series.service_id = request.first.service_id;
    series.practitioner_id = request.first.practitioner_id;
    series.client_id = request.client_id;
    series.every_weeks = request.every_weeks;
    series.notes = request.notes;
    series.created_by = call.actor.id;
    std::vector<std::string> texts;
    texts.reserve(starts.size());
    for (const auto& start : starts) texts.push_back(UtcText(start));
    BookingStore::InsertSeries(tx, series, texts);
    modules::Audit(tx, call.actor,
                   {"appointment_series.created",
                    "appointment_series",
                    series.id,
                    nullptr,
                    {{"every_weeks", series.every_weeks}, {"starts", texts}, {"client_id", series.client_id}}});
    CLINICORE_TRY_STATUS(
        jobs.Enqueue(kBookSeriesKind, {{"series_id", series.id}}, {.idempotency_key = "series:" + series.id}));
    tx.Commit();
    return series.id;
  });
}

Result<Series> BookingService::GetSeries(const Call& call, const std::string& id) {
  return database_.ReadInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<Series> {
    auto series = BookingStore::FindSeries(tx, id);
    if (!series) return Error::NotFound("No such series.");
    Appointment probe;  // who sees the series: who would see its appointments
    probe.clinic_id = series->clinic_id;
    probe.client_id = series->client_id;
    probe.practitioner_id = series->practitioner_id;
    if (!Sees(call, probe)) return Error::NotFound("No such series.");
    return *series;
  });
}

jobs::Outcome BookingService::BookSeries(jobs::JobContext& context) {
  const auto series_id = modules::PayloadString(context.job().payload, "series_id");
  if (!series_id || context.tenant() == nullptr) return jobs::Outcome::Fail("series_id required");
  const auto scope = context.tenant()->Scope();
  auto series = database_.ReadInTenant(scope, [&](db::Transaction& tx) -> Result<std::optional<Series>> {
    return BookingStore::FindSeries(tx, *series_id);
  });
  if (!series) return jobs::Outcome::FromError(series.error());
  if (!*series) return jobs::Outcome::Done();
  const auto& s = **series;
  modules::Actor actor = modules::SystemActor();  // on behalf of the series' maker
  actor.id = s.created_by.value_or("");
  for (const auto& occurrence : s.occurrences) {
    if (context.cancelled()) return jobs::Outcome::Retry("the worker is stopping; the rest are still pending");
    if (occurrence.status != "pending") continue;
    auto start = kit::ParseInstant(occurrence.start, "start");
    if (!start) return jobs::Outcome::Fail("stored start unreadable: " + occurrence.start);
    const TimeRequest time{s.clinic_id, s.service_id, s.practitioner_id, ToInstant(*start)};
    // Each occurrence in its own transaction: one that conflicts leaves the others booked.
    auto booked =
        context.jobs().WriteInTenant(scope, [&](db::Transaction& tx, jobs::JobTx& jobs) -> Result<Appointment> {
          auto appointment = BookTime(tx, jobs, actor, time, s.client_id, s.notes, s.id);
          if (!appointment) return appointment;  // rolled back; recorded below
          BookingStore::SettleOccurrence(tx, s.id, occurrence.index, "booked", appointment->id, nullptr);
          tx.Commit();
          return appointment;
        });
    if (booked) continue;
    const auto& refusal = booked.error();
    if (refusal.code != core::ErrorCode::kConflict && refusal.code != core::ErrorCode::kInvalidArgument) {
      return jobs::Outcome::FromError(refusal);
    }
    const nlohmann::json conflict =
        refusal.fields.empty()
            ? nlohmann::json{{"field", nullptr}, {"message", refusal.detail}}
            : nlohmann::json{{"field", refusal.fields.front().field}, {"message", refusal.fields.front().message}};
    auto recorded = database_.WriteInTenant(scope, [&](db::Transaction& tx) -> core::Status {
      BookingStore::SettleOccurrence(tx, s.id, occurrence.index, "conflict", std::nullopt, conflict);
      tx.Commit();
      return core::Ok();
    });
    if (!recorded) return jobs::Outcome::FromError(recorded.error());
  }
  return jobs::Outcome::Done();
}

Result<BookingSettings> BookingService::GetSettings(const Call& call) {
  return database_.ReadOnceInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<BookingSettings> {
    return SettingsFrom(BookingStore::LoadSettings(tx));
  });
}

Result<BookingSettings> BookingService::UpdateSettings(const Call& call, const SettingsPatch& patch) {
  return Forgetting(
      call, database_.WriteInTenant(call.tenant.Scope(), [&](db::Transaction& tx) -> Result<BookingSettings> {
        const auto before = SettingsFrom(BookingStore::LoadSettings(tx));
        auto save = [&](const char* key, const std::optional<int>& value) {
          if (value) BookingStore::SaveSetting(tx, key, *value);
        };
        save("booking.slot_step_minutes", patch.slot_step_minutes);
        save("booking.min_notice_minutes", patch.min_notice_minutes);
        save("booking.horizon_days", patch.horizon_days);
        save("booking.hold_minutes", patch.hold_minutes);
        save("booking.cancel_window_hours", patch.cancel_window_hours);
        if (patch.second_reminder_hours) {
          const auto& hours_before = *patch.second_reminder_hours;
          BookingStore::SaveSetting(tx, "booking.second_reminder_hours",
                                    hours_before ? nlohmann::json(*hours_before) : nlohmann::json(nullptr));
        }
        const auto after = SettingsFrom(BookingStore::LoadSettings(tx));
        modules::Audit(tx, call.actor,
                       {"booking.settings_updated", "settings", "booking", ToJson(before), ToJson(after)});
        tx.Commit();
        return after;
      }));
}

jobs::Outcome BookingService::RaiseReminder(jobs::JobContext& context) {
  const auto& payload = context.job().payload;
  const auto id = modules::PayloadString(payload, "appointment_id");
  const auto start = modules::PayloadString(payload, "start");
  if (!id || !start || !payload.contains("hours_before") || !payload.at("hours_before").is_number_integer() ||
      context.tenant() == nullptr) {
    return jobs::Outcome::Fail("appointment_id, start and hours_before required");
  }
  const int hours_before = payload.at("hours_before").get<int>();
  auto raised = context.jobs().WriteInTenant(
      context.tenant()->Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
        const auto a = BookingStore::FindAppointment(tx, *id);
        // Cancelled, closed or moved since it was planned: this reminder is dropped. Raised
        // already (a repeated run): not again.
        const bool due = a && a->status == "booked" && a->start == *start;
        if (due && BookingStore::MarkReminderRaised(tx, *id, *start, hours_before)) {
          auto event = EventPayload(*a);
          event["hours_before"] = hours_before;
          modules::Emit(jobs, "appointment.reminder_due", event);
        }
        tx.Commit();
        return core::Ok();
      });
  if (!raised) return jobs::Outcome::FromError(raised.error());
  return jobs::Outcome::Done();
}

}  // namespace clinicore::booking
