#include "tenants/crm/crm_handler.hpp"

#include <chrono>
#include <regex>

#include "platform/http/json_fields.hpp"
#include "platform/kit/answers.hpp"
#include "platform/kit/fields.hpp"
#include "platform/kit/list_query.hpp"

namespace clinicore::crm {
namespace {

using core::Error;
using core::Result;
using http::JsonFields;
using http::Response;
using modules::Call;
using Kind = kit::FilterRule::Kind;

constexpr size_t kMaxCampaignBytes = 8 * 1024;
constexpr size_t kMaxNoteChars = 10'000;

bool Sent(const Call& call, const char* field) {
  return call.body().is_object() && call.body().contains(field);
}
// Sent with a value other than null (a refused value has its own error already).
bool SentValue(const Call& call, const char* field) {
  return Sent(call, field) && !call.body()[field].is_null();
}

void Refuse(JsonFields& fields, const std::string& field, const std::string& message) {
  fields.Check(Error::InvalidArgument("", {{field, message}}));
}

std::optional<std::string> NameField(JsonFields& fields, const std::string& name) {
  auto value = fields.String(name, {.max_length = 400});
  if (value) fields.Check(kit::ValidateLength(*value, name, 0, 100));
  return value;
}

std::optional<std::string> SourceField(JsonFields& fields) {
  static const std::regex kSource("[a-z][a-z0-9_-]{0,63}");
  auto source = fields.String("source", {.max_length = 64});
  if (source && !std::regex_match(*source, kSource)) {
    Refuse(fields, "source", "must be manual or a lead-source plugin's name (lower case, digits, - and _)");
  }
  return source;
}

std::optional<nlohmann::json> CampaignField(JsonFields& fields) {
  auto campaign = fields.Object("campaign");
  if (campaign && campaign->dump().size() > kMaxCampaignBytes) {
    Refuse(fields, "campaign", "must be at most 8 KiB of JSON");
    return std::nullopt;
  }
  return campaign;
}

// {marketing, contact, method, given_at?}: each refusal names its part ("consent.method").
std::optional<Consent> ConsentField(JsonFields& fields) {
  const nlohmann::json* raw = fields.Raw("consent");
  if (!raw) return std::nullopt;
  if (!raw->is_object()) {
    Refuse(fields, "consent", "must be an object {marketing, contact, method, given_at}");
    return std::nullopt;
  }
  JsonFields inner(*raw);
  Consent consent;
  const auto marketing = inner.Bool("marketing", true);
  const auto contact = inner.Bool("contact", true);
  const auto method = inner.String("method", {.required = true, .max_length = 64});
  if (method) inner.Check(kit::ValidateLength(*method, "method", 1, 64));
  const auto given_at = kit::ParsedField(inner, "given_at", false, 40, kit::ParseInstant);
  auto status = inner.Finish();
  if (!status) {
    Error error = std::move(status).error();
    for (auto& field : error.fields) field.field = "consent." + field.field;
    fields.Check(error);
    return std::nullopt;
  }
  consent.marketing = *marketing;
  consent.contact = *contact;
  consent.method = *method;
  consent.given_at = kit::FormatInstant(given_at.value_or(std::chrono::system_clock::now()));
  return consent;
}

std::optional<std::optional<std::string>> NullableChecked(JsonFields& fields, const std::string& name, size_t max_bytes,
                                                          core::Status (*validate)(const std::string&,
                                                                                   std::string_view)) {
  auto value = fields.NullableString(name, {.max_length = max_bytes});
  if (value && *value && validate) fields.Check(validate(**value, name));
  return value;
}

core::Status ValidateExternalId(const std::string& value, std::string_view field) {
  return kit::ValidateLength(value, field, 1, 200);
}

const std::vector<kit::FilterRule>& LeadFilters() {
  static const std::vector<kit::FilterRule> rules = {
      {"status", Kind::kOneOf, {"new", "contacted", "qualified", "booked", "won", "lost"}},
      {"owner_id", Kind::kUuid},
      {"source", Kind::kText, {}, 64},
      {"tag", Kind::kUuid},
      {"clinic_id", Kind::kUuid},
      {"created_from", Kind::kInstant},
      {"created_to", Kind::kInstant},
      {"search", Kind::kText, {}, 100},
      {"sort", Kind::kSort, {"created_at", "updated_at"}},
  };
  return rules;
}

Response LeadResponse(int status, const Lead& lead) {
  return Response::Json(status, ToJson(lead));
}

std::optional<std::string> ColorField(JsonFields& fields, bool required) {
  static const std::regex kColor("#[0-9a-f]{6}");
  auto color = fields.String("color", {.required = required, .max_length = 7});
  if (color && !std::regex_match(*color, kColor)) Refuse(fields, "color", "must be #rrggbb in lower-case hex");
  return color;
}

}  // namespace

Result<Response> CrmHandler::GetSettings(Call& call) {
  CLINICORE_TRY(const CrmSettings settings, service_->GetSettings(call));
  return Response::Json(200, ToJson(settings));
}

Result<Response> CrmHandler::UpdateSettings(Call& call) {
  JsonFields fields(call.body());
  SettingsPatch patch;
  if (auto days = fields.Integer("dedupe_window_days", {.min = 0, .max = 3650})) patch.dedupe_window_days = *days;
  patch.salesperson_sees_all = fields.Bool("salesperson_sees_all");
  patch.assignment = fields.String("assignment", {.max_length = 20});
  if (patch.assignment && std::find(std::begin(kAssignmentModes), std::end(kAssignmentModes), *patch.assignment) ==
                              std::end(kAssignmentModes)) {
    Refuse(fields, "assignment", "must be none, round_robin or least_open");
  }
  if (auto hours = fields.Integer("stale_after_hours", {.min = 1, .max = 8760})) patch.stale_after_hours = *hours;
  CLINICORE_TRY_STATUS(fields.Finish());
  if (!patch.dedupe_window_days && !patch.salesperson_sees_all && !patch.assignment && !patch.stale_after_hours) {
    return Error::InvalidArgument("Send at least one setting to change.", {{"body", "no setting to change"}});
  }
  CLINICORE_TRY(const CrmSettings settings, service_->UpdateSettings(call, patch));
  return Response::Json(200, ToJson(settings));
}

Result<Response> CrmHandler::CreateLead(Call& call) {
  JsonFields fields(call.body());
  NewLead draft;
  draft.first_name = NameField(fields, "first_name").value_or("");
  draft.last_name = NameField(fields, "last_name").value_or("");
  draft.email = fields.String("email", {.max_length = 254});
  kit::CheckIfPresent(fields, draft.email, kit::ValidateEmail, "email");
  draft.phone = fields.String("phone", {.max_length = 16});
  kit::CheckIfPresent(fields, draft.phone, kit::ValidatePhone, "phone");
  // Neither sent (or both null): one error for the pair; a refused value has its own already.
  if (!SentValue(call, "email") && !SentValue(call, "phone")) {
    Refuse(fields, "email", "an email or a phone is required");
  }
  draft.source = SourceField(fields).value_or("manual");
  draft.external_id = fields.String("external_id", {.max_length = 800});
  kit::CheckIfPresent(fields, draft.external_id, ValidateExternalId, "external_id");
  draft.campaign = CampaignField(fields).value_or(nlohmann::json::object());
  draft.clinic_id = kit::UuidField(fields, "clinic_id", false);
  draft.service_id = kit::UuidField(fields, "service_id", false);
  draft.owner_id = kit::UuidField(fields, "owner_id", false);
  draft.consent = ConsentField(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Arrival arrival, service_->CreateLead(call, std::move(draft)));
  // A lead the caller may not see (another salesperson's) is merged all the same, but only its
  // id is told.
  if (arrival.merged && !arrival.visible) return Response::Json(200, {{"id", arrival.lead.id}, {"merged", true}});
  if (arrival.merged) return LeadResponse(200, arrival.lead);
  return kit::Created(ToJson(arrival.lead), "/v1/crm/leads/" + arrival.lead.id);
}

Result<Response> CrmHandler::ListLeads(Call& call) {
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "leads", LeadFilters()));
  LeadFilter filter;
  filter.status = query.Filter("status");
  filter.owner_id = query.Filter("owner_id");
  filter.source = query.Filter("source");
  filter.tag_id = query.Filter("tag");
  filter.clinic_id = query.Filter("clinic_id");
  filter.created_from = query.Filter("created_from");
  filter.created_to = query.Filter("created_to");
  if (auto search = query.Filter("search")) {
    const std::string term = SearchTerm(*search);
    if (!term.empty()) filter.search_pattern = kit::ContainsPattern(term);
  }
  const auto sort = query.SortOrder({"created_at", true});
  CLINICORE_TRY(std::string body, service_->ListLeads(call, query.page, filter, {sort.key, sort.descending}));
  return Response::Text(200, "application/json", std::move(body));
}

Result<Response> CrmHandler::GetLead(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const LeadDetail detail, service_->GetLead(call, id));
  nlohmann::json body = ToJson(detail.lead);
  body["timeline"] = kit::PageJson(detail.timeline);
  return Response::Json(200, body);
}

Result<Response> CrmHandler::ListActivities(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "timeline:" + id));
  CLINICORE_TRY(const auto page, service_->ListActivities(call, id, query.page));
  return kit::PageResponse(page);
}

Result<Response> CrmHandler::UpdateLead(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  LeadPatch patch;
  patch.first_name = NameField(fields, "first_name");
  patch.last_name = NameField(fields, "last_name");
  patch.email = NullableChecked(fields, "email", 254, kit::ValidateEmail);
  patch.phone = NullableChecked(fields, "phone", 16, kit::ValidatePhone);
  patch.external_id = NullableChecked(fields, "external_id", 800, ValidateExternalId);
  patch.campaign = CampaignField(fields);
  patch.clinic_id = kit::NullableUuidField(fields, "clinic_id");
  patch.service_id = kit::NullableUuidField(fields, "service_id");
  patch.status = fields.String("status", {.max_length = 20});
  if (patch.status && !IsStatus(*patch.status)) {
    Refuse(fields, "status", "must be one of new, contacted, qualified, booked, won, lost");
  }
  patch.lost_reason = fields.String("lost_reason", {.max_length = 2000});
  if (patch.lost_reason) fields.Check(kit::ValidateLength(*patch.lost_reason, "lost_reason", 1, 500));
  if (patch.status == "lost" && !patch.lost_reason) Refuse(fields, "lost_reason", "is required to mark a lead lost");
  if (patch.lost_reason && patch.status != "lost") Refuse(fields, "lost_reason", "goes with status lost only");
  patch.consent = ConsentField(fields);
  CLINICORE_TRY_STATUS(fields.Finish());
  if (patch.Empty()) {
    return Error::InvalidArgument("Send at least one field to change.", {{"body", "no field to change"}});
  }
  CLINICORE_TRY(const Lead lead, service_->UpdateLead(call, id, std::move(patch)));
  return LeadResponse(200, lead);
}

Result<Response> CrmHandler::AssignLead(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto owner = kit::NullableUuidField(fields, "owner_id");
  if (!Sent(call, "owner_id")) Refuse(fields, "owner_id", "is required (null unassigns the lead)");
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Lead lead, service_->AssignLead(call, id, owner.value_or(std::nullopt)));
  return LeadResponse(200, lead);
}

Result<Response> CrmHandler::AddNote(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto text = fields.String("text", {.required = true, .max_length = 4 * kMaxNoteChars});
  if (text) fields.Check(kit::ValidateLength(*text, "text", 1, kMaxNoteChars));
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Activity note, service_->AddNote(call, id, *text));
  return kit::Created(ToJson(note), "/v1/crm/leads/" + id + "/activities");
}

Result<Response> CrmHandler::DeleteLead(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY_STATUS(service_->DeleteLead(call, id));
  return Response::NoContent();
}

Result<Response> CrmHandler::CreateTag(Call& call) {
  JsonFields fields(call.body());
  auto name = fields.String("name", {.required = true, .max_length = 200});
  if (name) fields.Check(kit::ValidateLength(*name, "name", 1, 50));
  auto color = ColorField(fields, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  CLINICORE_TRY(const Tag tag, service_->CreateTag(call, *name, color.value_or("#64748b")));
  return kit::Created(ToJson(tag), "/v1/admin/tags/" + tag.id);
}

Result<Response> CrmHandler::ListTags(Call& call) {
  CLINICORE_TRY(const kit::ListQuery query, kit::ParseListQuery(call.http, "tags"));
  CLINICORE_TRY(const auto page, service_->ListTags(call, query.page));
  return kit::PageResponse(page);
}

Result<Response> CrmHandler::UpdateTag(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  JsonFields fields(call.body());
  auto name = fields.String("name", {.max_length = 200});
  if (name) fields.Check(kit::ValidateLength(*name, "name", 1, 50));
  auto color = ColorField(fields, false);
  CLINICORE_TRY_STATUS(fields.Finish());
  if (!name && !color)
    return Error::InvalidArgument("Send at least one field to change.", {{"body", "no field to change"}});
  CLINICORE_TRY(const Tag tag, service_->UpdateTag(call, id, name, color));
  return Response::Json(200, ToJson(tag));
}

Result<Response> CrmHandler::DeleteTag(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY_STATUS(service_->DeleteTag(call, id));
  return Response::NoContent();
}

Result<Response> CrmHandler::AttachTag(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const std::string tag_id, kit::PathUuid(call.http, "tag_id"));
  CLINICORE_TRY(const Lead lead, service_->TagLead(call, id, tag_id, /*attach=*/true));
  return LeadResponse(200, lead);
}

Result<Response> CrmHandler::DetachTag(Call& call) {
  CLINICORE_TRY(const std::string id, kit::PathUuid(call.http, "id"));
  CLINICORE_TRY(const std::string tag_id, kit::PathUuid(call.http, "tag_id"));
  CLINICORE_TRY(const Lead lead, service_->TagLead(call, id, tag_id, /*attach=*/false));
  return LeadResponse(200, lead);
}

}  // namespace clinicore::crm
