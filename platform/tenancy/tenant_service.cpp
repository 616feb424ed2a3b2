#include "platform/tenancy/tenant_service.hpp"

#include <sodium.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/kit/list_query.hpp"
#include "platform/kit/validators.hpp"
#include "platform/tenancy/queries.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::tenancy {
namespace {

using core::Error;
using core::ErrorCode;
using core::Result;

constexpr const char* kOnboardScope = "console.onboard";

Error TenantNotFound(const std::string& key) {
  return Error::NotFound("No tenant '" + key + "' exists.");
}

// The request as stored with an Idempotency-Key: a different body under the same key is refused.
std::string RequestHash(const OnboardRequest& request) {
  nlohmann::json canonical = {{"slug", request.slug},
                              {"display_name", request.display_name},
                              {"time_zone", request.time_zone},
                              {"locale", request.locale},
                              {"limits", request.limits}};
  if (request.owner.is_object()) {
    // The owner's identity, never the password: this hash is stored.
    canonical["owner"] = {{"email", request.owner.value("email", nlohmann::json())},
                          {"full_name", request.owner.value("full_name", nlohmann::json())}};
  }
  return core::Sha256Hex(canonical.dump());
}

// A stable row count per table of one schema, read as the tenant's own role.
std::map<std::string, long long> RowCounts(db::Transaction& tx) {
  std::map<std::string, long long> counts;
  const auto tables =
      tx.ExecScript("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename");
  for (const auto& row : tables) {
    const std::string table = row[0].as<std::string>();
    counts[table] = tx.ExecScript("SELECT count(*) FROM " + tx.QuoteName(table))[0][0].as<long long>();
  }
  return counts;
}

}  // namespace

core::Status ValidateTimeZone(const std::string& time_zone) {
  return kit::ValidateTimeZone(time_zone, "time_zone");
}

core::Status ValidateLocale(const std::string& locale) {
  static const std::regex kLocale(R"(^[a-z]{2,3}(-[A-Z]{2})?$)");
  if (std::regex_match(locale, kLocale)) return core::Ok();
  return Error::InvalidArgument("locale '" + locale + "' is not a language tag like en or el-GR.",
                                {{"locale", "must look like en or el-GR"}});
}

core::Status ValidateLimits(const nlohmann::json& limits) {
  static const std::regex kKey(R"(^[a-z][a-z0-9_]{0,63}$)");
  if (!limits.is_object())
    return Error::InvalidArgument("limits must be an object.", {{"limits", "must be an object"}});
  if (limits.size() > 50) return Error::InvalidArgument("limits has too many keys.", {{"limits", "at most 50 keys"}});
  for (const auto& [key, value] : limits.items()) {
    if (!std::regex_match(key, kKey)) {
      return Error::InvalidArgument("limits key '" + key + "' is not snake_case.",
                                    {{"limits." + key, "keys must be snake_case"}});
    }
    if (!value.is_number_integer() || value.get<long long>() < 0) {
      return Error::InvalidArgument("limits." + key + " must be a non-negative integer.",
                                    {{"limits." + key, "must be a non-negative integer"}});
    }
  }
  return core::Ok();
}

core::Status ValidateOnboardRequest(const OnboardRequest& request) {
  if (auto slug = ValidateSlug(request.slug); !slug) return slug;
  const size_t name_length = request.display_name.size();
  if (name_length == 0 || name_length > 200) {
    return Error::InvalidArgument("display_name must be 1 to 200 bytes.", {{"display_name", "must be 1 to 200 bytes"}});
  }
  if (auto tz = ValidateTimeZone(request.time_zone); !tz) return tz;
  if (auto locale = ValidateLocale(request.locale); !locale) return locale;
  return ValidateLimits(request.limits);
}

TenantService::TenantService(db::Database& database, std::vector<migrations::MigrationFile> tenant_migrations,
                             std::shared_ptr<TenantDirectory> directory, TenancyOptions options)
    : database_(database),
      tenant_migrations_(std::move(tenant_migrations)),
      directory_(std::move(directory)),
      options_(options) {}

int TenantService::latest_version() const {
  return tenant_migrations_.empty() ? 0 : tenant_migrations_.back().version;
}

Result<OnboardResult> TenantService::Onboard(const OnboardRequest& request, const Actor& actor,
                                             const std::optional<std::string>& idempotency_key) {
  if (auto valid = ValidateOnboardRequest(request); !valid) return std::move(valid).error();
  for (const auto& extension : extensions_) {
    if (!extension.validate) continue;
    if (auto valid = extension.validate(request.owner); !valid) return std::move(valid).error();
  }
  const std::string request_hash = RequestHash(request);
  // The cell first: the whole onboarding runs on its login, the only one that may enter the
  // new tenant's role (docs/decisions/0012-tenant-cells.md).
  auto cell = database_.ReadOnce([&](db::Transaction& tx) -> Result<int> {
    const auto row = tx.Exec(queries::kLeastFilledCell, database_.cells())[0];
    if (row[0].is_null()) {
      return Error::Unavailable("No database cell is registered for onboarding; run clinicore migrate.",
                                "provisioning.cells has no cell with a login below CLINICORE_DB_CELLS");
    }
    return row[0].as<int>();
  });
  if (!cell) return std::move(cell).error();

  auto result = database_.WriteInCellAndRetire(*cell, [&](db::Transaction& tx) -> Result<OnboardResult> {
    if (idempotency_key) {
      // Claim the key first: a concurrent request with the same key waits here, then replays.
      if (tx.Exec(queries::kClaimIdempotencyKey, kOnboardScope, *idempotency_key, request_hash).empty()) {
        auto stored = tx.Exec(queries::kSelectIdempotencyKey, kOnboardScope, *idempotency_key)[0];
        if (stored[0].as<std::string>() != request_hash) {
          return Error{ErrorCode::kConflict,
                       "This Idempotency-Key was used with a different request.",
                       {},
                       {{"Idempotency-Key", "already used with a different request body"}}};
        }
        const std::string id = nlohmann::json::parse(stored[2].as<std::string>()).value("id", "");
        auto tenant = TenantRepository::FindById(tx, id);
        if (!tenant) return Error::NotFound("The tenant created under this Idempotency-Key no longer exists.");
        tx.Commit();  // nothing was written; committing just ends the transaction
        return OnboardResult{*tenant, true};
      }
    }
    if (TenantRepository::FindBySlug(tx, request.slug)) {
      return Error{
          ErrorCode::kAlreadyExists, "The slug '" + request.slug + "' is taken.", {}, {{"slug", "is already taken"}}};
    }

    Tenant tenant;
    tenant.id = core::NewUuid();
    tenant.slug = request.slug;
    tenant.display_name = request.display_name;
    tenant.time_zone = request.time_zone;
    tenant.locale = request.locale;
    tenant.limits = request.limits;
    tenant.schema_name = SchemaNameFor(request.slug);
    tenant.role_name = RoleNameFor(tenant.id);
    tenant.schema_version = latest_version();
    tenant.cell = *cell;

    auto from_spare = ProvisionObjects(tx, tenant);
    if (!from_spare) return std::move(from_spare).error();
    Step(OnboardStep::kRegister, tenant);
    Tenant stored = TenantRepository::Insert(tx, tenant);
    TenantRepository::Audit(tx, actor.name, "tenant.onboard", stored.id, actor.request_id,
                            {{"slug", stored.slug}, {"schema_version", stored.schema_version}});
    nlohmann::json owner = nullptr;
    if (!extensions_.empty()) {
      auto provisioned = ProvisionAsTenant(tx, stored, request.owner);
      if (!provisioned) return std::move(provisioned).error();
      owner = std::move(provisioned).value();
    }
    if (idempotency_key) {
      tx.Exec(queries::kStoreIdempotentResponse, kOnboardScope, *idempotency_key, 201,
              nlohmann::json({{"id", stored.id}}).dump());
    }
    tx.Commit();
    return OnboardResult{stored, false, *from_spare, owner};
  });
  if (result && !result->replayed) {
    if (!result->from_spare) AnnounceRole(result->tenant);  // a claim announced it in its transaction
    directory_->PublishChange();
    core::log::Info(
        "tenant_onboarded",
        {{"tenant_id", result->tenant.id}, {"slug", result->tenant.slug}, {"from_spare", result->from_spare}});
  }
  if (!result && result.error().code == ErrorCode::kAlreadyExists && result.error().fields.empty()) {
    // Two onboardings of one slug raced; the unique index decided.
    return Error{
        ErrorCode::kAlreadyExists, "The slug '" + request.slug + "' is taken.", {}, {{"slug", "is already taken"}}};
  }
  return result;
}

// Role, schema, tables and registry row commit together or not at all: PostgreSQL DDL (CREATE
// ROLE and ALTER SCHEMA … RENAME included) is transactional, and a rolled-back claim leaves the
// spare ready. The provisioning functions derive the role's name from the id as RoleNameFor
// does, and check the schema's name.
Result<bool> TenantService::ProvisionObjects(db::Transaction& tx, Tenant& tenant) {
  const auto claimed = tx.Exec(queries::kClaimSpare, tenant.cell, tenant.schema_version, tenant.schema_name)[0][0];
  if (!claimed.is_null()) {
    tenant.id = claimed.as<std::string>();
    tenant.role_name = RoleNameFor(tenant.id);
    Step(OnboardStep::kClaimSpare, tenant);
    return true;
  }
  Step(OnboardStep::kCreateRole, tenant);
  if (tx.Exec(queries::kCreateTenantObjects, tenant.id, tenant.schema_name, tenant.cell)[0][0].as<std::string>() !=
      tenant.role_name) {
    return Error::Internal("the provisioning function named the tenant's role differently");
  }
  Step(OnboardStep::kCreateSchema, tenant);
  Step(OnboardStep::kMigrate, tenant);
  migrations::ApplyAllInTransaction(tx.raw(), {tenant.schema_name, tenant.role_name}, tenant_migrations_);
  return false;
}

void TenantService::AnnounceRole(const Tenant& tenant) {
  auto announced = database_.Write([&](db::Transaction& tx) -> Result<bool> {
    const bool known = tx.Exec(queries::kAnnounceTenantRole, tenant.id)[0][0].as<bool>();
    tx.Commit();
    return known;
  });
  // The tenant is onboarded either way; a backend that missed its grant refuses it until the
  // next membership change (the next onboarding or spare), so say so.
  if (!announced || !*announced) {
    core::log::Warn("tenant_role_not_announced",
                    {{"tenant_id", tenant.id},
                     {"detail", announced ? std::string("no provisioned objects") : announced.error().internal}});
  }
}

Result<SpareReport> TenantService::RefillSpares(int per_cell) {
  SpareReport report;
  auto dropped = DropSurplusSpares(per_cell);
  if (!dropped) return std::move(dropped).error();
  report.dropped = *dropped;
  // Read first, so a full cell costs no transaction on its login (each one ends its connection).
  auto short_cells = database_.Read([&](db::Transaction& tx) -> Result<std::vector<int>> {
    std::vector<int> cells;
    for (const auto& row : tx.Exec(queries::kReadySparesPerCell, database_.cells(), latest_version())) {
      if (row[1].as<int>() < per_cell) cells.push_back(row[0].as<int>());
    }
    return cells;
  });
  if (!short_cells) return std::move(short_cells).error();
  for (int cell : *short_cells) {
    while (true) {
      auto added = AddSpare(cell, per_cell);
      if (!added) return std::move(added).error();
      if (!*added) break;
      ++report.created;
    }
  }
  return report;
}

Result<int> TenantService::DropSurplusSpares(int per_cell) {
  auto surplus = database_.Read([&](db::Transaction& tx) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    for (const auto& row : tx.Exec(queries::kSurplusSpares, latest_version(), per_cell, database_.cells())) {
      ids.push_back(row[0].as<std::string>());
    }
    return ids;
  });
  if (!surplus) return std::move(surplus).error();
  int dropped = 0;
  for (const std::string& id : *surplus) {
    // Each on its own: a spare an onboarding claims meanwhile is not dropped (false).
    auto gone = database_.Write([&](db::Transaction& tx) -> Result<bool> {
      const bool was_spare = tx.Exec(queries::kDropSpare, id)[0][0].as<bool>();
      tx.Commit();
      return was_spare;
    });
    if (!gone) return std::move(gone).error();
    if (*gone) ++dropped;
  }
  return dropped;
}

// On the cell's login, which alone may enter the spare's role to migrate its schema.
Result<bool> TenantService::AddSpare(int cell, int per_cell) {
  return database_.WriteInCellAndRetire(cell, [&](db::Transaction& tx) -> Result<bool> {
    tx.Exec(queries::kLockCellSpares, cell);
    if (tx.Exec(queries::kCountReadySpares, cell, latest_version())[0][0].as<int>() >= per_cell) {
      tx.Commit();  // nothing written; ends the transaction and its lock
      return false;
    }
    const std::string id = core::NewUuid();
    if (tx.Exec(queries::kCreateSpare, id, cell, latest_version())[0][0].as<std::string>() != RoleNameFor(id)) {
      return Error::Internal("the provisioning function named the spare's role differently");
    }
    migrations::ApplyAllInTransaction(tx.raw(), {SpareSchemaNameFor(id), RoleNameFor(id)}, tenant_migrations_);
    tx.Commit();
    return true;
  });
}

// Runs the extension as the new tenant inside the onboarding transaction, then returns to
// the platform's role and search_path for the rest of the transaction.
Result<nlohmann::json> TenantService::ProvisionAsTenant(db::Transaction& tx, const Tenant& tenant,
                                                        const nlohmann::json& owner) {
  const auto previous = tx.ExecScript("SELECT current_setting('role'), current_setting('search_path')")[0];
  const std::string previous_role = previous[0].as<std::string>();
  const std::string previous_path = previous[1].as<std::string>();
  tx.ExecScript(db::Database::EnterScopeSql(tx.raw().conn(), tenant.Scope()));
  Result<nlohmann::json> provisioned = nlohmann::json(nullptr);
  for (const auto& extension : extensions_) {
    if (!extension.provision) continue;
    auto part = extension.provision(tx, tenant, owner);
    if (!part) {
      provisioned = std::move(part).error();
      break;
    }
    if (part->is_object()) {
      if (!provisioned->is_object()) *provisioned = nlohmann::json::object();
      provisioned->update(*part);
    }
  }
  tx.raw().exec_params("SELECT set_config('role', $1, true), set_config('search_path', $2, true)", previous_role,
                       previous_path);
  return provisioned;
}

Result<TenantPage> TenantService::List(const ListQuery& query) {
  if (query.page.limit < 1 || query.page.limit > 100) {
    return Error::InvalidArgument("limit must be between 1 and 100.", {{"limit", "must be between 1 and 100"}});
  }
  if (query.status && *query.status != "active" && *query.status != "suspended" && *query.status != "offboarding") {
    return Error::InvalidArgument("status must be active, suspended or offboarding.",
                                  {{"status", "must be active, suspended or offboarding"}});
  }
  std::optional<std::string> pattern;
  if (query.search) {
    if (query.search->size() > 100) {
      return Error::InvalidArgument("q is longer than 100 characters.", {{"q", "at most 100 characters"}});
    }
    pattern = kit::ContainsPattern(*query.search);
  }
  return database_.Read([&](db::Transaction& tx) -> Result<TenantPage> {
    auto rows =
        TenantRepository::List(tx, query.status, pattern, kit::PositionText(query.page, 0), query.page.limit + 1);
    auto page =
        kit::MakePage(std::move(rows), query.page, [](const Tenant& tenant) { return nlohmann::json{tenant.slug}; });
    return TenantPage{std::move(page.items), std::move(page.next_cursor)};
  });
}

Result<TenantDetail> TenantService::Get(const std::string& key) {
  auto tenant = database_.Read(
      [&](db::Transaction& tx) -> Result<std::optional<Tenant>> { return TenantRepository::FindByKey(tx, key); });
  if (!tenant) return std::move(tenant).error();
  if (!tenant.value()) return TenantNotFound(key);
  TenantDetail detail{**tenant, 0, {}};
  for (const auto& file : tenant_migrations_) {
    if (file.version > detail.tenant.schema_version) ++detail.pending_migrations;
  }
  auto counts = database_.ReadInTenant(
      detail.tenant.Scope(),
      [](db::Transaction& tx) -> Result<std::map<std::string, long long>> { return RowCounts(tx); });
  if (!counts) return std::move(counts).error();
  detail.row_counts = std::move(counts).value();
  return detail;
}

Result<Tenant> TenantService::UpdateProfile(const std::string& key, const ProfilePatch& patch, const Actor& actor) {
  if (patch.display_name && (patch.display_name->empty() || patch.display_name->size() > 200)) {
    return Error::InvalidArgument("display_name must be 1 to 200 bytes.", {{"display_name", "must be 1 to 200 bytes"}});
  }
  if (patch.time_zone) {
    if (auto tz = ValidateTimeZone(*patch.time_zone); !tz) return std::move(tz).error();
  }
  if (patch.locale) {
    if (auto locale = ValidateLocale(*patch.locale); !locale) return std::move(locale).error();
  }
  if (patch.limits) {
    if (auto limits = ValidateLimits(*patch.limits); !limits) return std::move(limits).error();
  }
  auto updated = database_.Write([&](db::Transaction& tx) -> Result<Tenant> {
    auto existing = TenantRepository::FindByKey(tx, key);
    if (!existing) return TenantNotFound(key);
    if (existing->status == "offboarding") {
      return Error{ErrorCode::kFailedPrecondition, "The tenant is being offboarded; it can no longer change.", {}, {}};
    }
    auto tenant = TenantRepository::UpdateProfile(tx, existing->id, patch.display_name, patch.time_zone, patch.locale,
                                                  patch.limits);
    nlohmann::json changed = nlohmann::json::object();
    if (patch.display_name) changed["display_name"] = *patch.display_name;
    if (patch.time_zone) changed["time_zone"] = *patch.time_zone;
    if (patch.locale) changed["locale"] = *patch.locale;
    if (patch.limits) changed["limits"] = *patch.limits;
    TenantRepository::Audit(tx, actor.name, "tenant.update", tenant->id, actor.request_id, changed);
    tx.Commit();
    return *tenant;
  });
  if (updated) directory_->PublishChange();
  return updated;
}

Result<Tenant> TenantService::Transition(const std::string& key, const std::string& to,
                                         std::initializer_list<std::string_view> allowed_from,
                                         const std::optional<std::string>& reason, const Actor& actor,
                                         const std::string& audit_action, const std::string& action) {
  auto changed = database_.Write([&](db::Transaction& tx) -> Result<Tenant> {
    auto existing = TenantRepository::FindByKey(tx, key);
    if (!existing) return TenantNotFound(key);
    const bool allowed = std::find(allowed_from.begin(), allowed_from.end(), existing->status) != allowed_from.end();
    // Compare-and-set on the status read above: a concurrent change makes this a no-op.
    auto tenant = allowed ? TenantRepository::UpdateStatus(tx, existing->id, to, existing->status, reason,
                                                           options_.retention_hours)
                          : std::nullopt;
    if (!tenant) {
      return Error{ErrorCode::kFailedPrecondition,
                   "The tenant is " + existing->status + "; it cannot be " + action + " from that state.",
                   {},
                   {{"status", "is " + existing->status}}};
    }
    TenantRepository::Audit(
        tx, actor.name, audit_action, tenant->id, actor.request_id,
        {{"from", existing->status}, {"to", to}, {"reason", reason ? nlohmann::json(*reason) : nullptr}});
    tx.Commit();
    return *tenant;
  });
  if (changed) {
    directory_->PublishChange();
    core::log::Info("tenant_status_changed", {{"tenant_id", changed->id}, {"status", changed->status}});
  }
  return changed;
}

Result<Tenant> TenantService::Suspend(const std::string& key, const std::optional<std::string>& reason,
                                      const Actor& actor) {
  if (reason && reason->size() > 500) {
    return Error::InvalidArgument("reason is longer than 500 bytes.", {{"reason", "at most 500 bytes"}});
  }
  return Transition(key, "suspended", {"active"}, reason, actor, "tenant.suspend", "suspended");
}

Result<Tenant> TenantService::Resume(const std::string& key, const Actor& actor) {
  return Transition(key, "active", {"suspended"}, std::nullopt, actor, "tenant.resume", "resumed");
}

Result<Tenant> TenantService::Offboard(const std::string& key, const Actor& actor) {
  return Transition(key, "offboarding", {"active", "suspended"}, std::nullopt, actor, "tenant.offboard", "offboarded");
}

Result<TenantMigrations> TenantService::Migrations(const std::string& key) {
  auto tenant = database_.Read(
      [&](db::Transaction& tx) -> Result<std::optional<Tenant>> { return TenantRepository::FindByKey(tx, key); });
  if (!tenant) return std::move(tenant).error();
  if (!tenant.value()) return TenantNotFound(key);
  auto applied = database_.ReadInTenant(
      (*tenant)->Scope(), [](db::Transaction& tx) -> Result<std::vector<migrations::AppliedMigration>> {
        std::vector<migrations::AppliedMigration> rows;
        for (const auto& row :
             tx.ExecScript("SELECT version, file_name, checksum FROM schema_migrations ORDER BY version")) {
          rows.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
        }
        return rows;
      });
  if (!applied) return std::move(applied).error();
  TenantMigrations result{applied.value(), {}};
  for (const auto& file : tenant_migrations_) {
    const bool done = std::any_of(result.applied.begin(), result.applied.end(),
                                  [&](const auto& a) { return a.version == file.version; });
    if (!done) result.pending.push_back(file.file_name);
  }
  return result;
}

}  // namespace clinicore::tenancy

namespace clinicore::tenancy {
namespace {

std::string UtcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace

Result<ExportReport> TenantService::Export(const std::string& key, const std::string& directory, const Actor& actor) {
  namespace fs = std::filesystem;
  auto found = database_.Read(
      [&](db::Transaction& tx) -> Result<std::optional<Tenant>> { return TenantRepository::FindByKey(tx, key); });
  if (!found) return std::move(found).error();
  if (!found.value()) return TenantNotFound(key);
  const Tenant tenant = **found;

  const fs::path folder = fs::path(directory) / (tenant.slug + "-" + UtcStamp());
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec)
    return Error::InvalidArgument("Cannot create " + folder.string() + ": " + ec.message(),
                                  {{"directory", ec.message()}});

  // Read as the tenant's role, table by table through a cursor, so memory stays bounded.
  auto written = database_.ReadInTenant(tenant.Scope(), [&](db::Transaction& tx) -> Result<ExportReport> {
    ExportReport report{folder.string(), 0, 0};
    nlohmann::json manifest = {{"tenant_id", tenant.id},
                               {"slug", tenant.slug},
                               {"schema_version", tenant.schema_version},
                               {"exported_at", UtcStamp()},
                               {"tables", nlohmann::json::object()}};
    for (const auto& row : tx.ExecScript("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                         "ORDER BY tablename")) {
      const std::string table = row[0].as<std::string>();
      std::ofstream out(folder / (table + ".jsonl"), std::ios::binary);
      tx.ExecScript("DECLARE export_rows NO SCROLL CURSOR FOR SELECT row_to_json(t)::text FROM " + tx.QuoteName(table) +
                    " t");
      long long rows = 0;
      while (true) {
        const auto batch = tx.ExecScript("FETCH 1000 FROM export_rows");
        for (const auto& line : batch) out << line[0].c_str() << '\n';
        rows += static_cast<long long>(batch.size());
        if (batch.size() < 1000) break;
      }
      tx.ExecScript("CLOSE export_rows");
      if (!out) return Error{ErrorCode::kUnavailable, "Writing the export to " + folder.string() + " failed.", {}, {}};
      manifest["tables"][table] = rows;
      ++report.tables;
      report.rows += rows;
    }
    std::ofstream(folder / "manifest.json") << manifest.dump(2) << '\n';
    return report;
  });
  if (!written) return std::move(written).error();

  auto recorded = database_.Write([&](db::Transaction& tx) -> core::Status {
    tx.Exec(queries::kInsertExport, tenant.id, tenant.slug, written->location, written->tables, written->rows);
    TenantRepository::Audit(tx, actor.name, "tenant.export", tenant.id, actor.request_id,
                            {{"location", written->location}, {"tables", written->tables}, {"rows", written->rows}});
    tx.Commit();
    return core::Ok();
  });
  if (!recorded) return std::move(recorded).error();
  core::log::Info("tenant_exported", {{"tenant_id", tenant.id}, {"rows", written->rows}});
  return written;
}

Result<Tenant> TenantService::Purge(const std::string& key, const Actor& actor) {
  auto purged = database_.Write([&](db::Transaction& tx) -> Result<Tenant> {
    auto tenant = TenantRepository::FindByKey(tx, key);
    if (!tenant) return TenantNotFound(key);
    if (tenant->status != "offboarding") {
      return Error{ErrorCode::kFailedPrecondition,
                   "Only an offboarding tenant can be purged; it is " + tenant->status + ".",
                   {},
                   {{"status", "is " + tenant->status}}};
    }
    if (tx.Exec(queries::kCountExports, tenant->id)[0][0].as<int>() == 0) {
      return Error{ErrorCode::kFailedPrecondition,
                   "Export the tenant's data before purging it.",
                   {},
                   {{"export", "none exists"}}};
    }
    // The registry row goes first and only when the retention has passed (checked by SQL).
    if (tx.Exec(queries::kDeleteTenant, tenant->id).affected_rows() != 1) {
      return Error{ErrorCode::kFailedPrecondition,
                   "The tenant's retention runs until " + tenant->purge_after.value_or("?") + ".",
                   {},
                   {{"purge_after", "is in the future"}}};
    }
    tx.Exec(queries::kDropTenantObjects, tenant->id);
    TenantRepository::Audit(tx, actor.name, "tenant.purge", tenant->id, actor.request_id,
                            {{"slug", tenant->slug}, {"schema", tenant->schema_name}});
    tx.Commit();
    return *tenant;
  });
  if (purged) {
    directory_->PublishChange();
    core::log::Info("tenant_purged", {{"tenant_id", purged->id}});
  }
  return purged;
}

Result<std::vector<std::pair<std::string, std::string>>> TenantService::PurgeDue(const Actor& actor) {
  auto due = database_.Read([](db::Transaction& tx) -> Result<std::vector<Tenant>> {
    std::vector<Tenant> tenants;
    for (const auto& row : tx.Exec(queries::kSelectPurgeCandidates)) tenants.push_back(TenantFromRow(row));
    return tenants;
  });
  if (!due) return std::move(due).error();
  std::vector<std::pair<std::string, std::string>> outcome;
  for (const auto& tenant : *due) {
    auto purged = Purge(tenant.id, actor);
    outcome.emplace_back(tenant.slug, purged ? "purged" : "skipped: " + purged.error().detail);
  }
  return outcome;
}

}  // namespace clinicore::tenancy
