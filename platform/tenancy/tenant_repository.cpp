#include "platform/tenancy/tenant_repository.hpp"

#include "platform/tenancy/queries.hpp"

namespace clinicore::tenancy {
namespace {

std::optional<std::string> OptionalText(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

std::optional<Tenant> FirstTenant(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return TenantFromRow(rows[0]);
}

}  // namespace

Tenant TenantFromRow(const pqxx::row& row) {
  Tenant tenant;
  tenant.id = row[0].as<std::string>();
  tenant.slug = row[1].as<std::string>();
  tenant.display_name = row[2].as<std::string>();
  tenant.status = row[3].as<std::string>();
  tenant.time_zone = row[4].as<std::string>();
  tenant.locale = row[5].as<std::string>();
  tenant.limits = nlohmann::json::parse(row[6].as<std::string>());
  tenant.schema_name = row[7].as<std::string>();
  tenant.role_name = row[8].as<std::string>();
  tenant.schema_version = row[9].as<int>();
  tenant.status_reason = OptionalText(row[10]);
  tenant.purge_after = OptionalText(row[11]);
  tenant.created_at = row[12].as<std::string>();
  tenant.updated_at = row[13].as<std::string>();
  tenant.cell = row[14].as<int>();
  return tenant;
}

void TenantRepository::RegisterStatements(db::Database& database) {
  using namespace queries;
  for (const auto& [name, sql] : std::initializer_list<std::pair<const char*, const char*>>{
           {kSelectTenantById, kSelectTenantByIdSql},
           {kSelectTenantBySlug, kSelectTenantBySlugSql},
           {kListTenants, kListTenantsSql},
           {kInsertTenant, kInsertTenantSql},
           {kUpdateTenantProfile, kUpdateTenantProfileSql},
           {kUpdateTenantStatus, kUpdateTenantStatusSql},
           {kSetSchemaVersion, kSetSchemaVersionSql},
           {kSelectBehindTenants, kSelectBehindTenantsSql},
           {kInsertAudit, kInsertAuditSql},
           {kClaimIdempotencyKey, kClaimIdempotencyKeySql},
           {kSelectIdempotencyKey, kSelectIdempotencyKeySql},
           {kStoreIdempotentResponse, kStoreIdempotentResponseSql},
           {kTenantStatus, kTenantStatusSql},
           {kInsertExport, kInsertExportSql},
           {kCountExports, kCountExportsSql},
           {kDeleteTenant, kDeleteTenantSql},
           {kCreateTenantObjects, kCreateTenantObjectsSql},
           {kLeastFilledCell, kLeastFilledCellSql},
           {kDropTenantObjects, kDropTenantObjectsSql},
           {kClaimSpare, kClaimSpareSql},
           {kAnnounceTenantRole, kAnnounceTenantRoleSql},
           {kCreateSpare, kCreateSpareSql},
           {kDropSpare, kDropSpareSql},
           {kReadySparesPerCell, kReadySparesPerCellSql},
           {kLockCellSpares, kLockCellSparesSql},
           {kCountReadySpares, kCountReadySparesSql},
           {kSurplusSpares, kSurplusSparesSql},
           {kSelectPurgeCandidates, kSelectPurgeCandidatesSql}}) {
    database.RegisterStatement(name, sql);
  }
}

std::optional<Tenant> TenantRepository::FindById(db::Transaction& tx, const std::string& id) {
  return FirstTenant(tx.Exec(queries::kSelectTenantById, id));
}

std::optional<Tenant> TenantRepository::FindBySlug(db::Transaction& tx, const std::string& slug) {
  return FirstTenant(tx.Exec(queries::kSelectTenantBySlug, slug));
}

std::optional<Tenant> TenantRepository::FindByKey(db::Transaction& tx, const std::string& key) {
  return IsUuid(key) ? FindById(tx, key) : FindBySlug(tx, key);
}

std::vector<Tenant> TenantRepository::List(db::Transaction& tx, const std::optional<std::string>& status,
                                           const std::optional<std::string>& like_pattern,
                                           const std::optional<std::string>& after_slug, int limit) {
  std::vector<Tenant> tenants;
  for (const auto& row : tx.Exec(queries::kListTenants, status, like_pattern, after_slug, limit)) {
    tenants.push_back(TenantFromRow(row));
  }
  return tenants;
}

Tenant TenantRepository::Insert(db::Transaction& tx, const Tenant& tenant) {
  return TenantFromRow(tx.Exec(queries::kInsertTenant, tenant.id, tenant.slug, tenant.display_name, tenant.time_zone,
                               tenant.locale, tenant.limits.dump(), tenant.schema_name, tenant.role_name,
                               tenant.schema_version, tenant.cell)[0]);
}

std::optional<Tenant> TenantRepository::UpdateProfile(db::Transaction& tx, const std::string& id,
                                                      const std::optional<std::string>& display_name,
                                                      const std::optional<std::string>& time_zone,
                                                      const std::optional<std::string>& locale,
                                                      const std::optional<nlohmann::json>& limits) {
  std::optional<std::string> limits_text;
  if (limits) limits_text = limits->dump();
  return FirstTenant(tx.Exec(queries::kUpdateTenantProfile, id, display_name, time_zone, locale, limits_text));
}

std::optional<Tenant> TenantRepository::UpdateStatus(db::Transaction& tx, const std::string& id, const std::string& to,
                                                     const std::string& from, const std::optional<std::string>& reason,
                                                     int retention_hours) {
  return FirstTenant(tx.Exec(queries::kUpdateTenantStatus, id, to, from, reason, retention_hours));
}

std::vector<Tenant> TenantRepository::BehindVersion(db::Transaction& tx, int version) {
  std::vector<Tenant> tenants;
  for (const auto& row : tx.Exec(queries::kSelectBehindTenants, version)) tenants.push_back(TenantFromRow(row));
  return tenants;
}

void TenantRepository::Audit(db::Transaction& tx, const std::string& actor, const std::string& action,
                             const std::optional<std::string>& tenant_id, const std::string& request_id,
                             const nlohmann::json& details) {
  tx.Exec(queries::kInsertAudit, actor, action, tenant_id, request_id, details.dump());
}

}  // namespace clinicore::tenancy
