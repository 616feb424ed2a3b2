#include "tenants/clinics/clinics_handler.hpp"

#include <algorithm>
#include <set>

#include "platform/http/json_fields.hpp"
#include "platform/kit/answers.hpp"
#include "platform/kit/fields.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/kit/validators.hpp"

namespace clinicore::clinics {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::Response;
using modules::Call;

constexpr int64_t kMaxMinutes = 1440;
constexpr int64_t kMaxBufferMinutes = 720;
constexpr int64_t kMaxPriceMinor = 1'000'000'000'000;

Result<std::string> PathId(const Call& call, const std::string& name) {
  return kit::PathUuid(call.http, name);
}

std::optional<WeeklyHours> HoursField(JsonFields& fields, const std::string& name, bool required) {
  const nlohmann::json* raw = fields.Raw(name, required);
  if (!raw) return std::nullopt;
  auto hours = ParseWeeklyHours(*raw, name);
  if (!hours) {
    fields.Check(std::move(hours).error());
    return std::nullopt;
  }
  return *hours;
}

std::optional<std::vector<std::string>> ResourceKindsField(JsonFields& fields) {
  auto kinds = fields.StringList("resource_kinds", 2, 16);
  if (!kinds) return std::nullopt;
  std::set<std::string> seen;
  for (const auto& kind : *kinds) {
    if ((kind != "room" && kind != "device") || !seen.insert(kind).second) {
      fields.Check(Error::InvalidArgument("", {{"resource_kinds", "must list distinct kinds: room, device"}}));
      return std::nullopt;
    }
  }
  return kinds;
}

// The fields of a clinic, shared by create (required ones required) and PATCH.
struct ClinicFields {
  std::optional<std::string> name, address, time_zone, currency, owner_id;
  std::optional<std::optional<std::string>> phone, email;
  std::optional<WeeklyHours> opening_hours;
  std::optional<bool> active;
};

ClinicFields ReadClinicFields(JsonFields& fields, bool create) {
  ClinicFields f;
  f.name = fields.String("name", {.required = create, .max_length = 800});
  if (f.name) fields.Check(kit::ValidateLength(*f.name, "name", 1, 200));
  f.address = fields.String("address", {.max_length = 2000});
  if (f.address) fields.Check(kit::ValidateLength(*f.address, "address", 0, 500));
  f.phone = fields.NullableString("phone", {.max_length = 16});
  if (f.phone && *f.phone) fields.Check(kit::ValidatePhone(**f.phone, "phone"));
  f.email = fields.NullableString("email", {.max_length = 254});
  if (f.email && *f.email) fields.Check(kit::ValidateEmail(**f.email, "email"));
  f.time_zone = fields.String("time_zone", {.required = create, .max_length = 64});
  kit::CheckIfPresent(fields, f.time_zone, kit::ValidateTimeZone, "time_zone");
  f.currency = fields.String("currency", {.required = create, .max_length = 3});
  kit::CheckIfPresent(fields, f.currency, kit::ValidateCurrency, "currency");
  f.opening_hours = HoursField(fields, "opening_hours", create);
  f.owner_id = kit::UuidField(fields, "owner_id", false);
  f.active = fields.Bool("active");
  return f;
}

struct ServiceFields {
  std::optional<std::string> name, category, currency;
  std::optional<int64_t> duration, buffer_before, buffer_after, price_minor;
  std::optional<std::vector<std::string>> resource_kinds;
  std::optional<bool> active;
};

ServiceFields ReadServiceFields(JsonFields& fields, bool create) {
  ServiceFields f;
  f.name = fields.String("name", {.required = create, .max_length = 800});
  if (f.name) fields.Check(kit::ValidateLength(*f.name, "name", 1, 200));
  f.category = fields.String("category", {.max_length = 400});
  if (f.category) fields.Check(kit::ValidateLength(*f.category, "category", 0, 100));
  f.duration = fields.Integer("duration_minutes", {.required = create, .min = 1, .max = kMaxMinutes});
  f.buffer_before = fields.Integer("buffer_before_minutes", {.min = 0, .max = kMaxBufferMinutes});
  f.buffer_after = fields.Integer("buffer_after_minutes", {.min = 0, .max = kMaxBufferMinutes});
  f.price_minor = fields.Integer("price_minor", {.required = create, .min = 0, .max = kMaxPriceMinor});
  f.currency = fields.String("currency", {.max_length = 3});
  kit::CheckIfPresent(fields, f.currency, kit::ValidateCurrency, "currency");
  f.resource_kinds = ResourceKindsField(fields);
  f.active = fields.Bool("active");
  return f;
}

Result<kit::PageRequest> PageOf(const Call& call, std::string_view list) {
  CLINICORE_TRY(kit::ListQuery query, kit::ParseListQuery(call.http, list));
  return std::move(query.page);
}

const std::vector<kit::FilterRule>& ClinicFilters() {
  static const std::vector<kit::FilterRule> rules = {{"active", kit::FilterRule::Kind::kBool},
                                                     {"q", kit::FilterRule::Kind::kText, {}, 100}};
  return rules;
}

const std::vector<kit::FilterRule>& ServiceFilters() {
  static const std::vector<kit::FilterRule> rules = {{"active", kit::FilterRule::Kind::kBool},
                                                     {"category", kit::FilterRule::Kind::kText, {}, 100}};
  return rules;
}

}  // namespace

Result<Response> ClinicsHandler::CreateClinic(Call& call) {
  JsonFields fields(call.body());
  ClinicFields f = ReadClinicFields(fields, /*create=*/true);
  CLINICORE_TRY_STATUS(fields.Finish());
  Clinic draft;
  draft.name = *f.name;
  draft.address = f.address.value_or("");
  draft.phone = f.phone.value_or(std::nullopt);
  draft.email = f.email.value_or(std::nullopt);
  draft.time_zone = *f.time_zone;
  draft.currency = *f.currency;
  draft.opening_hours = *f.opening_hours;
  draft.owner_id = f.owner_id;
  draft.active = f.active.value_or(true);
  CLINICORE_TRY(const Clinic clinic, service_->CreateClinic(call, std::move(draft)));
  return kit::Created(ToJson(clinic), "/v1/clinics/" + clinic.id);
}

Result<Response> ClinicsHandler::ListClinics(Call& call) {
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "clinics", ClinicFilters()));
  ClinicFilter filter{query.BoolFilter("active"), std::nullopt};
  if (auto q = query.Filter("q")) filter.name_pattern = kit::ContainsPattern(*q);
  CLINICORE_TRY(const auto clinics, service_->ListClinics(call, query.page, filter));
  return kit::PageResponse(clinics);
}

Result<Response> ClinicsHandler::GetClinic(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  CLINICORE_TRY(const Clinic clinic, service_->GetClinic(call, id));
  return Response::Json(200, ToJson(clinic));
}

Result<Response> ClinicsHandler::UpdateClinic(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  JsonFields fields(call.body());
  ClinicFields f = ReadClinicFields(fields, /*create=*/false);
  CLINICORE_TRY_STATUS(fields.Finish());
  ClinicPatch patch{f.name,     f.address,       f.phone,    f.email, f.time_zone,
                    f.currency, f.opening_hours, f.owner_id, f.active};
  if (!patch.name && !patch.address && !patch.phone && !patch.email && !patch.time_zone && !patch.currency &&
      !patch.opening_hours && !patch.owner_id && !patch.active) {
    return Error::InvalidArgument("Send at least one field to change.", {{"body", "no field to change"}});
  }
  CLINICORE_TRY(const Clinic clinic, service_->UpdateClinic(call, id, patch));
  return Response::Json(200, ToJson(clinic));
}

Result<Response> ClinicsHandler::DeleteClinic(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  CLINICORE_TRY_STATUS(service_->DeleteClinic(call, id));
  return Response::NoContent();
}

Result<Response> ClinicsHandler::RestoreClinic(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  CLINICORE_TRY(const Clinic clinic, service_->RestoreClinic(call, id));
  return Response::Json(200, ToJson(clinic));
}

Result<Response> ClinicsHandler::AddClosure(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  JsonFields fields(call.body());
  const auto start_day = kit::ParsedField(fields, "start_date", true, 10, kit::ParseLocalDate);
  const auto end_day = kit::ParsedField(fields, "end_date", true, 10, kit::ParseLocalDate);
  auto reason = fields.String("reason", {.max_length = 2000});
  if (reason) fields.Check(kit::ValidateLength(*reason, "reason", 0, 500));
  if (start_day && end_day && *end_day < *start_day) {
    fields.Check(Error::InvalidArgument("", {{"end_date", "must not be before start_date"}}));
  }
  CLINICORE_TRY_STATUS(fields.Finish());
  Closure draft{"", clinic_id, kit::FormatLocalDate(*start_day), kit::FormatLocalDate(*end_day), reason.value_or(""),
                ""};
  CLINICORE_TRY(const Closure closure, service_->AddClosure(call, clinic_id, std::move(draft)));
  return kit::Created(ToJson(closure), "/v1/clinics/" + clinic_id + "/closures");
}

Result<Response> ClinicsHandler::ListClosures(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const auto page, PageOf(call, "closures:" + clinic_id));
  CLINICORE_TRY(const auto closures, service_->ListClosures(call, clinic_id, page));
  return kit::PageResponse(closures);
}

Result<Response> ClinicsHandler::AddService(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  JsonFields fields(call.body());
  ServiceFields f = ReadServiceFields(fields, /*create=*/true);
  CLINICORE_TRY_STATUS(fields.Finish());
  Service draft;
  draft.name = *f.name;
  draft.category = f.category.value_or("");
  draft.duration_minutes = static_cast<int>(*f.duration);
  draft.buffer_before_minutes = static_cast<int>(f.buffer_before.value_or(0));
  draft.buffer_after_minutes = static_cast<int>(f.buffer_after.value_or(0));
  draft.price_minor = *f.price_minor;
  draft.currency = f.currency.value_or("");
  draft.resource_kinds = f.resource_kinds.value_or(std::vector<std::string>{});
  draft.active = f.active.value_or(true);
  CLINICORE_TRY(const Service service, service_->AddService(call, clinic_id, std::move(draft)));
  return kit::Created(ToJson(service), "/v1/services/" + service.id);
}

Result<Response> ClinicsHandler::ListServices(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const kit::ListQuery query,
                kit::ParseListQuery(call.http, ServicesListName(clinic_id), ServiceFilters()));
  const ServiceFilter filter{query.BoolFilter("active"), query.Filter("category")};
  CLINICORE_TRY(std::string body, service_->ListServices(call, clinic_id, query.page, filter));
  return Response::Text(200, "application/json", std::move(body));
}

Result<Response> ClinicsHandler::UpdateService(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  JsonFields fields(call.body());
  ServiceFields f = ReadServiceFields(fields, /*create=*/false);
  CLINICORE_TRY_STATUS(fields.Finish());
  ServicePatch patch;
  patch.name = f.name;
  patch.category = f.category;
  if (f.duration) patch.duration_minutes = static_cast<int>(*f.duration);
  if (f.buffer_before) patch.buffer_before_minutes = static_cast<int>(*f.buffer_before);
  if (f.buffer_after) patch.buffer_after_minutes = static_cast<int>(*f.buffer_after);
  patch.price_minor = f.price_minor;
  patch.currency = f.currency;
  patch.resource_kinds = f.resource_kinds;
  patch.active = f.active;
  if (!patch.name && !patch.category && !patch.duration_minutes && !patch.buffer_before_minutes &&
      !patch.buffer_after_minutes && !patch.price_minor && !patch.currency && !patch.resource_kinds && !patch.active) {
    return Error::InvalidArgument("Send at least one field to change.", {{"body", "no field to change"}});
  }
  CLINICORE_TRY(const Service service, service_->UpdateService(call, id, patch));
  return Response::Json(200, ToJson(service));
}

Result<Response> ClinicsHandler::DeleteService(Call& call) {
  CLINICORE_TRY(const std::string id, PathId(call, "id"));
  CLINICORE_TRY_STATUS(service_->DeleteService(call, id));
  return Response::NoContent();
}

Result<Response> ClinicsHandler::AddPractitioner(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  JsonFields fields(call.body());
  NewPractitioner request;
  request.user_id = kit::UuidField(fields, "user_id", true).value_or("");
  auto service_ids = fields.StringList("service_ids", 100, 64, /*required=*/true);
  if (service_ids) {
    std::set<std::string> seen;
    for (size_t i = 0; i < service_ids->size(); ++i) {
      const std::string field = "service_ids[" + std::to_string(i) + "]";
      auto id = kit::ParseUuid((*service_ids)[i], field);
      if (!id) {
        fields.Check(std::move(id).error());
      } else if (seen.insert(*id).second) {
        request.service_ids.push_back(*id);
      }
    }
  }
  request.working_hours = HoursField(fields, "working_hours", false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Practitioner practitioner, service_->AddPractitioner(call, clinic_id, request));
  return kit::Created(ToJson(practitioner), "/v1/clinics/" + clinic_id + "/practitioners");
}

Result<Response> ClinicsHandler::ListPractitioners(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const auto page, PageOf(call, "practitioners:" + clinic_id));
  CLINICORE_TRY(const auto practitioners, service_->ListPractitioners(call, clinic_id, page));
  return kit::PageResponse(practitioners);
}

Result<Response> ClinicsHandler::AddTimeOff(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const std::string user_id, PathId(call, "user_id"));
  JsonFields fields(call.body());
  const auto starts = kit::ParsedField(fields, "start", true, 40, kit::ParseInstant);
  const auto ends = kit::ParsedField(fields, "end", true, 40, kit::ParseInstant);
  auto reason = fields.String("reason", {.max_length = 2000});
  if (reason) fields.Check(kit::ValidateLength(*reason, "reason", 0, 500));
  if (starts && ends && *ends <= *starts) fields.Check(Error::InvalidArgument("", {{"end", "must be after start"}}));
  CLINICORE_TRY_STATUS(fields.Finish());
  TimeOff draft{"", clinic_id, user_id, kit::FormatInstant(*starts), kit::FormatInstant(*ends), reason.value_or(""),
                ""};
  CLINICORE_TRY(const TimeOff time_off, service_->AddTimeOff(call, clinic_id, std::move(draft)));
  return kit::Created(ToJson(time_off), "/v1/clinics/" + clinic_id + "/practitioners/" + user_id + "/time-off");
}

Result<Response> ClinicsHandler::AddResource(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  JsonFields fields(call.body());
  auto name = fields.String("name", {.required = true, .max_length = 800});
  if (name) fields.Check(kit::ValidateLength(*name, "name", 1, 200));
  auto kind = fields.String("kind", {.required = true, .max_length = 16});
  if (kind && *kind != "room" && *kind != "device") {
    fields.Check(Error::InvalidArgument("", {{"kind", "must be room or device"}}));
  }
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Resource resource, service_->AddResource(call, clinic_id, {"", clinic_id, *name, *kind, ""}));
  return kit::Created(ToJson(resource), "/v1/clinics/" + clinic_id + "/resources");
}

Result<Response> ClinicsHandler::ListResources(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const auto page, PageOf(call, "resources:" + clinic_id));
  CLINICORE_TRY(const auto resources, service_->ListResources(call, clinic_id, page));
  return kit::PageResponse(resources);
}

Result<Response> ClinicsHandler::AddStaff(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const std::string user_id, PathId(call, "user_id"));
  CLINICORE_TRY(const auto added, service_->AddStaff(call, clinic_id, user_id));
  return Response::Json(added.second ? 201 : 200, ToJson(added.first));
}

Result<Response> ClinicsHandler::RemoveStaff(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const std::string user_id, PathId(call, "user_id"));
  CLINICORE_TRY_STATUS(service_->RemoveStaff(call, clinic_id, user_id));
  return Response::NoContent();
}

Result<Response> ClinicsHandler::ListStaff(Call& call) {
  CLINICORE_TRY(const std::string clinic_id, PathId(call, "id"));
  CLINICORE_TRY(const auto page, PageOf(call, "staff:" + clinic_id));
  CLINICORE_TRY(const auto staff, service_->ListStaff(call, clinic_id, page));
  return kit::PageResponse(staff);
}

}  // namespace clinicore::clinics
