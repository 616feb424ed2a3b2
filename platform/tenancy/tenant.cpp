#include "platform/tenancy/tenant.hpp"

#include <algorithm>
#include <array>

namespace clinicore::tenancy {
namespace {

// Names a tenant may not take: they collide with hosts, paths or PostgreSQL's own names.
constexpr std::array<std::string_view, 30> kReservedSlugs = {
    "admin",   "administrator", "api",       "app",    "assets", "auth",     "billing", "cdn",
    "console", "dashboard",     "default",   "docs",   "health", "internal", "mail",    "metrics",
    "null",    "platform",      "postgres",  "public", "root",   "static",   "status",  "support",
    "system",  "template0",     "template1", "tenant", "www",    "clinicore"};

nlohmann::json Optional(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

core::Status ValidateSlug(std::string_view slug) {
  auto bad = [](std::string message) { return core::Error::InvalidArgument("slug " + message, {{"slug", message}}); };
  if (slug.size() < 3 || slug.size() > 40) return bad("must be 3 to 40 characters long");
  for (char c : slug) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) return bad("may contain only lowercase ASCII letters, digits and '-'");
  }
  if (slug.front() == '-' || slug.back() == '-') return bad("must start and end with a letter or digit");
  if (slug.find("--") != std::string_view::npos) return bad("must not contain '--'");
  if (std::find(kReservedSlugs.begin(), kReservedSlugs.end(), slug) != kReservedSlugs.end()) {
    return bad("is reserved");
  }
  if (slug.rfind("pg-", 0) == 0) return bad("must not start with 'pg-'");
  return core::Ok();
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string SchemaNameFor(std::string_view slug) {
  std::string schema = "t_";
  for (char c : slug) schema += c == '-' ? '_' : c;
  return schema;
}

namespace {

// The id as PostgreSQL's replace(uuid::text, '-', '') spells it: lower case, no dashes.
std::string WithCompactId(std::string prefix, std::string_view id) {
  for (char c : id) {
    if (c != '-') prefix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return prefix;
}

}  // namespace

std::string RoleNameFor(std::string_view tenant_id) {
  return WithCompactId("tenant_", tenant_id);
}

std::string SpareSchemaNameFor(std::string_view spare_id) {
  return WithCompactId("s_", spare_id);
}

nlohmann::json PublicJson(const Tenant& tenant) {
  return {{"id", tenant.id},
          {"slug", tenant.slug},
          {"display_name", tenant.display_name},
          {"time_zone", tenant.time_zone},
          {"locale", tenant.locale}};
}

nlohmann::json ConsoleJson(const Tenant& tenant) {
  nlohmann::json json = PublicJson(tenant);
  json["status"] = tenant.status;
  json["status_reason"] = Optional(tenant.status_reason);
  json["limits"] = tenant.limits;
  json["schema_name"] = tenant.schema_name;
  json["role_name"] = tenant.role_name;
  json["cell"] = tenant.cell;
  json["schema_version"] = tenant.schema_version;
  json["purge_after"] = Optional(tenant.purge_after);
  json["created_at"] = tenant.created_at;
  json["updated_at"] = tenant.updated_at;
  return json;
}

}  // namespace clinicore::tenancy
