#pragma once

#include <any>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "platform/core/result.hpp"
#include "platform/db/database.hpp"

namespace clinicore::tenancy {

// One clinic group. schema_name and role_name are derived by the platform at onboarding
// and only ever read from the registry.
struct Tenant {
  std::string id;
  std::string slug;
  std::string display_name;
  std::string status;  // active | suspended | offboarding
  std::string time_zone;
  std::string locale;
  nlohmann::json limits = nlohmann::json::object();
  std::string schema_name;
  std::string role_name;
  int schema_version = 0;
  std::optional<std::string> status_reason;
  std::optional<std::string> purge_after;
  std::string created_at;
  std::string updated_at;
  int cell = 0;  // whose runtime login reaches role_name (db/cells.hpp)

  db::TenantScope Scope() const { return {role_name, schema_name, cell}; }
};

// The console's view of a tenant (internal names included: platform admins need them).
nlohmann::json ConsoleJson(const Tenant& tenant);
// What a tenant's own users may see of it.
nlohmann::json PublicJson(const Tenant& tenant);

// Slugs: 3–40 of [a-z0-9-], starting and ending with a letter or digit, no "--" (so no
// punycode look-alikes), not a reserved word. The error names the field "slug".
core::Status ValidateSlug(std::string_view slug);
bool IsUuid(std::string_view text);

std::string SchemaNameFor(std::string_view slug);     // "t_" + slug with '-' → '_'
std::string RoleNameFor(std::string_view tenant_id);  // "tenant_" + id without dashes
// A spare's schema until a tenant claims it (TenantService::RefillSpares): "s_" + id without
// dashes, never a tenant schema's name.
std::string SpareSchemaNameFor(std::string_view spare_id);

}  // namespace clinicore::tenancy
