#include "tenants/booking/booking_handler.hpp"

#include "platform/http/json_fields.hpp"
#include "platform/kit/answers.hpp"
#include "platform/kit/fields.hpp"
#include "platform/kit/list_query.hpp"

namespace clinicore::booking {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::Response;
using modules::Call;
using Kind = kit::FilterRule::Kind;

constexpr size_t kMaxNotesChars = 10'000;
constexpr int kMaxAvailabilityDays = 31;

// The availability query: every parameter checked, unknown ones refused, all errors at once.
Result<AvailabilityQuery> ParseAvailability(const Call& call) {
  std::vector<core::FieldError> errors;
  for (const auto& [name, value] : call.http.raw.query) {
    if (name != "clinic_id" && name != "service_id" && name != "practitioner_id" && name != "from" && name != "to") {
      errors.push_back({name, "is not a parameter of this request"});
    }
  }
  auto uuid = [&](const char* name, bool required) -> std::optional<std::string> {
    const auto value = call.Query(name);
    if (!value) {
      if (required) errors.push_back({name, "is required"});
      return std::nullopt;
    }
    auto parsed = kit::ParseUuid(*value, name);
    if (!parsed) {
      errors.push_back({name, "must be a UUID"});
      return std::nullopt;
    }
    return *parsed;
  };
  auto day = [&](const char* name) -> std::optional<date::year_month_day> {
    const auto value = call.Query(name);
    if (!value) {
      errors.push_back({name, "is required"});
      return std::nullopt;
    }
    auto parsed = kit::ParseLocalDate(*value, name);
    if (!parsed) {
      errors.push_back({name, "must be a date such as 2027-03-28"});
      return std::nullopt;
    }
    return *parsed;
  };
  AvailabilityQuery query;
  query.clinic_id = uuid("clinic_id", true).value_or("");
  query.service_id = uuid("service_id", true).value_or("");
  query.practitioner_id = uuid("practitioner_id", false);
  const auto from = day("from");
  const auto to = day("to");
  if (from && to) {
    const auto span = (date::sys_days{*to} - date::sys_days{*from}).count();
    if (span < 0) errors.push_back({"to", "must not be before from"});
    if (span > kMaxAvailabilityDays) errors.push_back({"to", "must be at most 31 days after from"});
  }
  if (!errors.empty()) return Error::InvalidArgument("The availability query is not valid.", std::move(errors));
  query.from = *from;
  query.to = *to;
  return query;
}

std::optional<Instant> StartField(JsonFields& fields, const std::string& name, bool required) {
  auto start = kit::ParsedField(fields, name, required, 40, kit::ParseInstant);
  if (!start) return std::nullopt;
  const auto whole = std::chrono::floor<std::chrono::seconds>(*start);
  if (whole != *start) {
    fields.Check(Error::InvalidArgument("", {{name, "must be a whole second"}}));
    return std::nullopt;
  }
  return Instant{whole.time_since_epoch()};
}

// {clinic_id, service_id, practitioner_id, start}: a hold, or the time of a staff booking.
std::optional<TimeRequest> TimeFields(JsonFields& fields) {
  TimeRequest time;
  auto clinic = kit::UuidField(fields, "clinic_id", true);
  auto service = kit::UuidField(fields, "service_id", true);
  auto practitioner = kit::UuidField(fields, "practitioner_id", true);
  auto start = StartField(fields, "start", true);
  if (!clinic || !service || !practitioner || !start) return std::nullopt;
  return TimeRequest{*clinic, *service, *practitioner, *start};
}

std::optional<std::string> TextField(JsonFields& fields, const std::string& name, bool required, size_t max_chars) {
  auto text = fields.String(name, {.required = required, .max_length = 4 * max_chars});
  if (text) fields.Check(kit::ValidateLength(*text, name, required ? 1 : 0, max_chars));
  return text;
}

// {"every_weeks": N, "count": K} or {"every_weeks": N, "until": "2027-06-30"}; refusals name
// rule.<key>.
void ParseRule(JsonFields& fields, SeriesRequest& request) {
  const auto rule = fields.Object("rule", /*required=*/true);
  if (!rule) return;
  std::vector<core::FieldError> errors;
  auto whole = [&](const char* key, int low, int high) -> std::optional<int> {
    if (!rule->contains(key)) return std::nullopt;
    const auto& value = rule->at(key);
    if (!value.is_number_integer() || value.get<long long>() < low || value.get<long long>() > high) {
      errors.push_back({std::string("rule.") + key,
                        "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high)});
      return std::nullopt;
    }
    return value.get<int>();
  };
  for (const auto& [key, value] : rule->items()) {
    if (key != "every_weeks" && key != "count" && key != "until") errors.push_back({"rule." + key, "is not a field"});
  }
  if (!rule->contains("every_weeks")) errors.push_back({"rule.every_weeks", "is required"});
  request.every_weeks = whole("every_weeks", 1, 52).value_or(1);
  request.count = whole("count", 1, kMaxOccurrences);
  if (rule->contains("until")) {
    const auto& until = rule->at("until");
    auto day = until.is_string() ? kit::ParseLocalDate(until.get<std::string>(), "rule.until")
                                 : core::Result<date::year_month_day>(Error::InvalidArgument(""));
    if (day) {
      request.until = *day;
    } else {
      errors.push_back({"rule.until", "must be a date such as 2027-06-30"});
    }
  }
  if (rule->contains("count") == rule->contains("until")) errors.push_back({"rule", "needs either count or until"});
  if (!errors.empty()) fields.Check(Error::InvalidArgument("", std::move(errors)));
}

const std::vector<kit::FilterRule>& AppointmentFilters() {
  static const std::vector<kit::FilterRule> rules = {
      {"clinic_id", Kind::kUuid}, {"practitioner_id", Kind::kUuid},
      {"client_id", Kind::kUuid}, {"status", Kind::kOneOf, {"booked", "cancelled", "completed", "no_show"}},
      {"from", Kind::kInstant},   {"to", Kind::kInstant},
  };
  return rules;
}

Response AppointmentResponse(const Appointment& a) {
  return Response::Json(200, ToJson(a));
}

}  // namespace

Result<Response> BookingHandler::Availability(Call& call) {
  CLINICORE_TRY(const auto query, ParseAvailability(call));
  CLINICORE_TRY(auto body, service_->Availability(call, query));
  return Response::Text(200, "application/json", std::move(body));
}

Result<Response> BookingHandler::PlaceHold(Call& call) {
  JsonFields fields(call.body());
  auto time = TimeFields(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Hold hold, service_->PlaceHold(call, *time));
  return kit::Created({{"id", hold.id}, {"expires_at", hold.expires_at}, {"hold", ToJson(hold)}},
                      "/v1/appointments/hold/" + hold.id);
}

Result<Response> BookingHandler::ReleaseHold(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY_STATUS(service_->ReleaseHold(call, id));
  return Response::NoContent();
}

Result<Response> BookingHandler::Book(Call& call) {
  JsonFields fields(call.body());
  BookingRequest request;
  request.hold_id = kit::UuidField(fields, "hold_id", false);
  request.client_id = kit::UuidField(fields, "client_id", false);
  request.notes = TextField(fields, "notes", false, kMaxNotesChars).value_or("");
  // Without a hold, the time is named in full (and only staff may: the service checks).
  const bool by_hold = call.body().is_object() && call.body().contains("hold_id");
  if (!by_hold) request.time = TimeFields(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Appointment booked, service_->Book(call, request));
  return kit::Created(ToJson(booked), "/v1/appointments/" + booked.id);
}

Result<Response> BookingHandler::ListAppointments(Call& call) {
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "appointments", AppointmentFilters()));
  AppointmentFilter filter;
  filter.clinic_id = query.Filter("clinic_id");
  filter.practitioner_id = query.Filter("practitioner_id");
  filter.client_id = query.Filter("client_id");
  filter.status = query.Filter("status");
  filter.from = query.Filter("from");
  filter.to = query.Filter("to");
  CLINICORE_TRY(const auto page, service_->ListAppointments(call, query.page, std::move(filter)));
  return kit::PageResponse(page);
}

Result<Response> BookingHandler::GetAppointment(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const Appointment found, service_->GetAppointment(call, id));
  return AppointmentResponse(found);
}

Result<Response> BookingHandler::Reschedule(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto start = StartField(fields, "start", true);
  auto practitioner = kit::UuidField(fields, "practitioner_id", false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Appointment moved, service_->Reschedule(call, id, *start, practitioner));
  return AppointmentResponse(moved);
}

Result<Response> BookingHandler::Cancel(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto reason = TextField(fields, "reason", true, 500);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Appointment cancelled, service_->Cancel(call, id, *reason));
  return AppointmentResponse(cancelled);
}

Result<Response> BookingHandler::Complete(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto amount = fields.Integer("amount_paid_minor", {.required = true, .min = 0, .max = 1'000'000'000'000});
  auto currency = fields.String("currency", {.required = true, .max_length = 3});
  kit::CheckIfPresent(fields, currency, kit::ValidateCurrency, "currency");
  auto notes = TextField(fields, "notes", false, kMaxNotesChars);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Appointment done, service_->Complete(call, id, *amount, *currency, notes));
  return AppointmentResponse(done);
}

Result<Response> BookingHandler::MarkNoShow(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const Appointment missed, service_->MarkNoShow(call, id));
  return AppointmentResponse(missed);
}

Result<Response> BookingHandler::CreateSeries(Call& call) {
  JsonFields fields(call.body());
  SeriesRequest request;
  auto time = TimeFields(fields);
  request.client_id = kit::UuidField(fields, "client_id", true).value_or("");
  request.notes = TextField(fields, "notes", false, kMaxNotesChars).value_or("");
  ParseRule(fields, request);
  CLINICORE_TRY_STATUS(fields.Finish());
  request.first = *time;
  CLINICORE_TRY(const std::string series_id, service_->CreateSeries(call, request));
  auto accepted = Response::Json(202, {{"series_id", series_id}});
  accepted.headers.emplace_back("Location", "/v1/appointments/series/" + series_id);
  return accepted;
}

Result<Response> BookingHandler::GetSeries(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const Series series, service_->GetSeries(call, id));
  return Response::Json(200, ToJson(series));
}

Result<Response> BookingHandler::GetSettings(Call& call) {
  CLINICORE_TRY(const BookingSettings settings, service_->GetSettings(call));
  return Response::Json(200, ToJson(settings));
}

Result<Response> BookingHandler::UpdateSettings(Call& call) {
  JsonFields fields(call.body());
  SettingsPatch patch;
  auto integer = [&](const char* name, int64_t low, int64_t high) -> std::optional<int> {
    auto value = fields.Integer(name, {.min = low, .max = high});
    if (!value) return std::nullopt;
    return static_cast<int>(*value);
  };
  patch.slot_step_minutes = integer("slot_step_minutes", 5, 240);
  patch.min_notice_minutes = integer("min_notice_minutes", 0, 43'200);
  patch.horizon_days = integer("horizon_days", 1, 730);
  patch.hold_minutes = integer("hold_minutes", 1, 60);
  patch.cancel_window_hours = integer("cancel_window_hours", 0, 720);
  // null turns the second reminder off.
  const auto& body = call.body();
  if (body.is_object() && body.contains("second_reminder_hours") && body.at("second_reminder_hours").is_null()) {
    (void)fields.Raw("second_reminder_hours");
    patch.second_reminder_hours = std::optional<int>();
  } else if (auto hours = integer("second_reminder_hours", 1, 720)) {
    patch.second_reminder_hours = hours;
  }
  CLINICORE_TRY_STATUS(fields.Finish());
  if (patch.Empty()) {
    return Error::InvalidArgument("Send at least one setting to change.", {{"body", "no setting to change"}});
  }
  CLINICORE_TRY(const BookingSettings settings, service_->UpdateSettings(call, patch));
  return Response::Json(200, ToJson(settings));
}

void RegisterBookingRoutes(modules::RouteTable& routes, std::shared_ptr<BookingHandler> handler) {
  using auth::RolesMay;
  using auth::ScopedRoles;
  using auth::ScopedToClinics;
  using http::Method;
  using modules::Bind;
  const http::RouteOptions json{.json_body = true};
  // Who books for clients; clients book for themselves through a hold.
  const std::vector<std::string> bookers = {"admin", "clinic_owner", "secretariat", "salesperson", "client"};
  const std::vector<std::string> closers = {"admin", "clinic_owner", "doctor", "secretariat"};
  auto scoped = [&](Method method, const char* path, std::vector<std::string> roles, std::string note) {
    return ScopedToClinics(RolesMay(method, path, std::move(roles), {}, std::move(note)), ScopedRoles());
  };
  const std::string own = "clients and doctors: their own appointments; staff: their clinics'";

  routes.Add(RolesMay(Method::kGet, "/v1/availability", auth::EveryRole(), {}, "any clinic of the tenant"),
             Bind(handler, &BookingHandler::Availability));
  routes.AddIdempotent(scoped(Method::kPost, "/v1/appointments/hold", bookers,
                              "clients for themselves; staff at their clinics; a taken time is 409"),
                       Bind(handler, &BookingHandler::PlaceHold), json);
  routes.Add(scoped(Method::kDelete, "/v1/appointments/hold/{id}", bookers, "clients: their own holds"),
             Bind(handler, &BookingHandler::ReleaseHold));
  routes.AddIdempotent(scoped(Method::kPost, "/v1/appointments", bookers,
                              "clients: from their own hold; staff: a hold or a time; a taken time is 409"),
                       Bind(handler, &BookingHandler::Book), json);
  const std::vector<std::string> staff_bookers = {"admin", "clinic_owner", "secretariat", "salesperson"};
  routes.AddIdempotent(scoped(Method::kPost, "/v1/appointments/recurring", staff_bookers,
                              "202; a job books each occurrence, conflicts recorded per occurrence"),
                       Bind(handler, &BookingHandler::CreateSeries), json);
  routes.Add(scoped(Method::kGet, "/v1/appointments/series/{id}", auth::EveryRole(), own),
             Bind(handler, &BookingHandler::GetSeries));
  routes.Add(scoped(Method::kGet, "/v1/appointments", auth::EveryRole(), own),
             Bind(handler, &BookingHandler::ListAppointments));
  routes.Add(scoped(Method::kGet, "/v1/appointments/{id}", auth::EveryRole(), own),
             Bind(handler, &BookingHandler::GetAppointment));
  routes.Add(scoped(Method::kPatch, "/v1/appointments/{id}/reschedule", bookers,
                    "clients: their own, up to booking.cancel_window_hours before"),
             Bind(handler, &BookingHandler::Reschedule), json);
  routes.Add(scoped(Method::kPatch, "/v1/appointments/{id}/cancel", bookers,
                    "clients: their own, up to booking.cancel_window_hours before"),
             Bind(handler, &BookingHandler::Cancel), json);
  routes.Add(scoped(Method::kPatch, "/v1/appointments/{id}/complete", closers, "doctors: their own"),
             Bind(handler, &BookingHandler::Complete), json);
  routes.Add(scoped(Method::kPatch, "/v1/appointments/{id}/no-show", closers, "doctors: their own; after the start"),
             Bind(handler, &BookingHandler::MarkNoShow));
  routes.Add(RolesMay(Method::kGet, "/v1/booking/settings", auth::ManagerRoles()),
             Bind(handler, &BookingHandler::GetSettings));
  routes.Add(RolesMay(Method::kPatch, "/v1/booking/settings", {"admin"}),
             Bind(handler, &BookingHandler::UpdateSettings), json);
}

}  // namespace clinicore::booking
