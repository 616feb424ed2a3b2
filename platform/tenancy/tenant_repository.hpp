#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/db/database.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::tenancy {

// SQL only: reads and writes platform.tenants and its companions inside the caller's
// transaction. Statement names are in queries.hpp.
class TenantRepository {
 public:
  static void RegisterStatements(db::Database& database);

  static std::optional<Tenant> FindById(db::Transaction& tx, const std::string& id);
  static std::optional<Tenant> FindBySlug(db::Transaction& tx, const std::string& slug);
  // Either form: a UUID is looked up as an id, anything else as a slug.
  static std::optional<Tenant> FindByKey(db::Transaction& tx, const std::string& key);
  static std::vector<Tenant> List(db::Transaction& tx, const std::optional<std::string>& status,
                                  const std::optional<std::string>& like_pattern,
                                  const std::optional<std::string>& after_slug, int limit);
  static Tenant Insert(db::Transaction& tx, const Tenant& tenant);
  static std::optional<Tenant> UpdateProfile(db::Transaction& tx, const std::string& id,
                                             const std::optional<std::string>& display_name,
                                             const std::optional<std::string>& time_zone,
                                             const std::optional<std::string>& locale,
                                             const std::optional<nlohmann::json>& limits);
  static std::optional<Tenant> UpdateStatus(db::Transaction& tx, const std::string& id, const std::string& to,
                                            const std::string& from, const std::optional<std::string>& reason,
                                            int retention_hours);
  static std::vector<Tenant> BehindVersion(db::Transaction& tx, int version);
  static void Audit(db::Transaction& tx, const std::string& actor, const std::string& action,
                    const std::optional<std::string>& tenant_id, const std::string& request_id,
                    const nlohmann::json& details);
};

Tenant TenantFromRow(const pqxx::row& row);

}  // namespace clinicore::tenancy
