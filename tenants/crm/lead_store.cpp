#include "tenants/crm/lead_store.hpp"

#include "platform/db/rows.hpp"
#include "tenants/crm/queries.hpp"

namespace clinicore::crm {
namespace queries {

std::string ListLeadsName(const std::string& column, bool descending, bool search) {
  return "crm.list_leads_" + column + (descending ? "_desc" : "_asc") + (search ? "_search" : "");
}

std::string ListLeadsSql(const std::string& column, bool descending, bool search) {
  const std::string col = "l." + column;
  const std::string direction = descending ? " DESC" : " ASC";
  return std::string("SELECT l.id::text, ") +
         CLINICORE_SQL_SORT_KEY("l.created_at") ", " CLINICORE_SQL_SORT_KEY(
             "l.updated_at") ", " CLINICORE_LEAD_JSON
                             " FROM leads l WHERE l.deleted_at IS NULL AND " CLINICORE_LEAD_VISIBLE
                             " AND ($3::text IS NULL OR l.status = $3) AND ($4::uuid IS NULL OR l.owner_id = $4::uuid) "
                             "AND ($5::text IS NULL OR l.source = $5) AND ($6::uuid IS NULL OR EXISTS (SELECT 1 FROM "
                             "lead_tags lt "
                             "WHERE lt.lead_id = l.id AND lt.tag_id = $6::uuid)) AND ($7::uuid IS NULL OR l.clinic_id "
                             "= $7::uuid) "
                             "AND ($8::timestamptz IS NULL OR l.created_at >= $8::timestamptz) "
                             "AND ($9::timestamptz IS NULL OR l.created_at < $9::timestamptz) AND (" +
         col + ", l.id) " + (descending ? "<" : ">") + " ($10::timestamptz, $11::uuid) " +
         (search ? "AND l.search_text LIKE extensions.search_fold($13::text) " : "AND $13::text IS NULL ") +
         "ORDER BY " + col + direction + ", l.id" + direction + " LIMIT $12";
}

}  // namespace queries

namespace {

using namespace queries;  // NOLINT(google-build-using-namespace): the statements of this store
using db::OptionalText;

constexpr const char* kNilUuid = "00000000-0000-0000-0000-000000000000";
constexpr const char* kMaxUuid = "ffffffff-ffff-ffff-ffff-ffffffffffff";

std::optional<Consent> ConsentOf(const std::string& json_text) {
  const auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (!parsed.is_object() || parsed.empty()) return std::nullopt;
  Consent c;
  c.marketing = parsed.value("marketing", false);
  c.contact = parsed.value("contact", false);
  c.given_at = parsed.value("given_at", "");
  c.method = parsed.value("method", "");
  return c;
}

std::optional<std::string> ConsentText(const std::optional<Consent>& consent) {
  if (!consent) return std::nullopt;
  return ToJson(*consent).dump();
}

std::vector<std::string> StringList(const std::string& json_text) {
  std::vector<std::string> out;
  const auto parsed = nlohmann::json::parse(json_text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& item : parsed) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

Lead LeadOf(const pqxx::row& row) {
  Lead l;
  l.id = row[0].as<std::string>();
  l.first_name = row[1].as<std::string>();
  l.last_name = row[2].as<std::string>();
  l.email = OptionalText(row[3]);
  l.phone = OptionalText(row[4]);
  l.source = row[5].as<std::string>();
  l.external_id = OptionalText(row[6]);
  l.campaign = nlohmann::json::parse(row[7].as<std::string>(), nullptr, false);
  l.clinic_id = OptionalText(row[8]);
  l.service_id = OptionalText(row[9]);
  l.status = row[10].as<std::string>();
  l.lost_reason = OptionalText(row[11]);
  l.owner_id = OptionalText(row[12]);
  l.consent = ConsentOf(row[13].as<std::string>());
  l.last_activity_at = row[14].as<std::string>();
  l.created_at = row[15].as<std::string>();
  l.updated_at = row[16].as<std::string>();
  l.created_key = row[17].as<std::string>();
  l.updated_key = row[18].as<std::string>();
  l.tags = StringList(row[19].as<std::string>());
  return l;
}

Activity ActivityOf(const pqxx::row& row) {
  Activity a;
  a.id = row[0].as<std::string>();
  a.lead_id = row[1].as<std::string>();
  a.kind = row[2].as<std::string>();
  a.actor_id = OptionalText(row[3]);
  a.details = nlohmann::json::parse(row[4].as<std::string>(), nullptr, false);
  a.created_at = row[5].as<std::string>();
  a.created_key = row[6].as<std::string>();
  return a;
}

Tag TagOf(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
          row[4].as<std::string>()};
}

std::optional<std::string> ScopeArray(const LeadScope& scope) {
  if (!scope.clinic_ids) return std::nullopt;
  return db::UuidArray(*scope.clinic_ids);
}

std::optional<std::string> NormalizedEmail(const std::optional<std::string>& email) {
  if (!email) return std::nullopt;
  std::string out = *email;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int IntSetting(const nlohmann::json& value, int fallback, int min, int max) {
  if (!value.is_number_integer()) return fallback;
  const auto n = value.get<int64_t>();
  return n < min || n > max ? fallback : static_cast<int>(n);
}

}  // namespace

void LeadStore::RegisterStatements(db::Database& database) {
  const std::pair<const char*, const char*> statements[] = {
      {kSelectSettings, kSelectSettingsSql},
      {kUpsertSetting, kUpsertSettingSql},
      {kLockIdentity, kLockIdentitySql},
      {kFindDuplicate, kFindDuplicateSql},
      {kInsertLead, kInsertLeadSql},
      {kSelectLead, kSelectLeadSql},
      {kSelectLeadForUpdate, kSelectLeadForUpdateSql},
      {kSelectAnyLeadForUpdate, kSelectAnyLeadForUpdateSql},
      {kLeadOfClient, kLeadOfClientSql},
      {kUpdateLead, kUpdateLeadSql},
      {kTouchLead, kTouchLeadSql},
      {kSoftDeleteLead, kSoftDeleteLeadSql},
      {kInsertActivity, kInsertActivitySql},
      {kListActivities, kListActivitiesSql},
      {kInsertTag, kInsertTagSql},
      {kSelectTag, kSelectTagSql},
      {kTagNameTaken, kTagNameTakenSql},
      {kListTags, kListTagsSql},
      {kUpdateTag, kUpdateTagSql},
      {kSoftDeleteTag, kSoftDeleteTagSql},
      {kAttachTag, kAttachTagSql},
      {kDetachTag, kDetachTagSql},
      {kSelectWorker, kSelectWorkerSql},
      {kCheckPlace, kCheckPlaceSql},
      {kClinicSalespeople, kClinicSalespeopleSql},
      {kLockTurn, kLockTurnSql},
      {kSaveTurn, kSaveTurnSql},
      {kLeastLoaded, kLeastLoadedSql},
      {kFollowUpFallback, kFollowUpFallbackSql},
      {kFlagQuietLeads, kFlagQuietLeadsSql},
  };
  for (const auto& [name, sql] : statements) database.RegisterStatement(name, sql);
  for (const std::string column : {"created_at", "updated_at"}) {
    for (const bool descending : {false, true}) {
      for (const bool search : {false, true}) {
        database.RegisterStatement(ListLeadsName(column, descending, search), ListLeadsSql(column, descending, search));
      }
    }
  }
}

// Values out of range (a hand-edited row) read as the default rather than failing every request.
CrmSettings LeadStore::LoadSettings(db::Transaction& tx) {
  CrmSettings s;
  for (const auto& row : tx.Exec(kSelectSettings)) {
    const auto key = row[0].as<std::string>();
    const auto value = nlohmann::json::parse(row[1].as<std::string>(), nullptr, false);
    if (key == "crm.dedupe_window_days") s.dedupe_window_days = IntSetting(value, s.dedupe_window_days, 0, 3650);
    if (key == "crm.stale_after_hours") s.stale_after_hours = IntSetting(value, s.stale_after_hours, 1, 8760);
    if (key == "crm.salesperson_sees_all" && value.is_boolean()) s.salesperson_sees_all = value.get<bool>();
    if (key == "crm.assignment" && value.is_string()) {
      const auto mode = value.get<std::string>();
      for (auto known : kAssignmentModes) {
        if (mode == known) s.assignment = mode;
      }
    }
  }
  return s;
}

void LeadStore::SaveSetting(db::Transaction& tx, const std::string& key, const nlohmann::json& value) {
  tx.Exec(kUpsertSetting, key, value.dump());
}

void LeadStore::LockIdentity(db::Transaction& tx, const std::string& value) {
  tx.Exec(kLockIdentity, value);
}

std::optional<Lead> LeadStore::FindDuplicate(db::Transaction& tx, const std::optional<std::string>& email,
                                             const std::optional<std::string>& phone, int window_days) {
  return db::FirstRow<Lead>(tx.Exec(kFindDuplicate, NormalizedEmail(email), phone, window_days), LeadOf);
}

Lead LeadStore::Insert(db::Transaction& tx, const NewLead& l) {
  return LeadOf(tx.Exec(kInsertLead, l.first_name, l.last_name, l.email, NormalizedEmail(l.email), l.phone, l.source,
                        l.external_id, l.campaign.dump(), l.clinic_id, l.service_id, l.owner_id,
                        ConsentText(l.consent).value_or("{}"))[0]);
}

std::optional<Lead> LeadStore::Find(db::Transaction& tx, const LeadScope& scope, const std::string& id,
                                    bool for_update) {
  return db::FirstRow<Lead>(
      tx.Exec(for_update ? kSelectLeadForUpdate : kSelectLead, ScopeArray(scope), scope.salesperson_id, id), LeadOf);
}

std::optional<Lead> LeadStore::FindAnyForUpdate(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Lead>(tx.Exec(kSelectAnyLeadForUpdate, id), LeadOf);
}

std::optional<std::string> LeadStore::LeadOfClient(db::Transaction& tx, const std::string& client_id) {
  const auto rows = tx.Exec(kLeadOfClient, client_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

std::optional<Lead> LeadStore::Update(db::Transaction& tx, const std::string& id, const LeadPatch& p) {
  const std::optional<std::string> email = p.email.value_or(std::nullopt);
  std::optional<std::string> campaign;
  if (p.campaign) campaign = p.campaign->dump();
  return db::FirstRow<Lead>(
      tx.Exec(kUpdateLead, id, p.first_name, p.last_name, p.email.has_value(), email, NormalizedEmail(email),
              p.phone.has_value(), p.phone.value_or(std::nullopt), p.external_id.has_value(),
              p.external_id.value_or(std::nullopt), campaign, p.clinic_id.has_value(),
              p.clinic_id.value_or(std::nullopt), p.service_id.has_value(), p.service_id.value_or(std::nullopt),
              p.status, p.lost_reason, ConsentText(p.consent), p.owner_id.has_value(),
              p.owner_id.value_or(std::nullopt), p.by_person),
      LeadOf);
}

void LeadStore::Touch(db::Transaction& tx, const std::string& id) {
  tx.Exec(kTouchLead, id);
}

bool LeadStore::SoftDelete(db::Transaction& tx, const std::string& id) {
  return tx.Exec(kSoftDeleteLead, id).affected_rows() > 0;
}

std::vector<ListedLead> LeadStore::List(db::Transaction& tx, const LeadScope& scope, const LeadFilter& f,
                                        const LeadOrder& order, const Position& after, int limit) {
  // The first page starts beyond every row of the order.
  const std::string key = after.key.value_or(order.descending ? "infinity" : "-infinity");
  const std::string id = after.id.value_or(order.descending ? kMaxUuid : kNilUuid);
  const bool search = f.search_pattern.has_value();
  return db::AllRows<ListedLead>(tx.Exec(ListLeadsName(order.column, order.descending, search), ScopeArray(scope),
                                         scope.salesperson_id, f.status, f.owner_id, f.source, f.tag_id, f.clinic_id,
                                         f.created_from, f.created_to, key, id, limit, f.search_pattern),
                                 [](const pqxx::row& row) {
                                   return ListedLead{row[0].as<std::string>(), row[1].as<std::string>(),
                                                     row[2].as<std::string>(), row[3].as<std::string>()};
                                 });
}

std::optional<Activity> LeadStore::AddActivity(db::Transaction& tx, const std::string& lead_id, const std::string& kind,
                                               const std::optional<std::string>& actor_id,
                                               const nlohmann::json& details,
                                               const std::optional<std::string>& event_id) {
  return db::FirstRow<Activity>(tx.Exec(kInsertActivity, lead_id, kind, actor_id, details.dump(), event_id),
                                ActivityOf);
}

std::vector<Activity> LeadStore::ListActivities(db::Transaction& tx, const std::string& lead_id, const Position& after,
                                                int limit) {
  return db::AllRows<Activity>(
      tx.Exec(kListActivities, lead_id, after.key.value_or("infinity"), after.id.value_or(kMaxUuid), limit),
      ActivityOf);
}

std::optional<Tag> LeadStore::InsertTag(db::Transaction& tx, const std::string& name, const std::string& color) {
  return db::FirstRow<Tag>(tx.Exec(kInsertTag, name, color), TagOf);
}

std::optional<Tag> LeadStore::FindTag(db::Transaction& tx, const std::string& id) {
  return db::FirstRow<Tag>(tx.Exec(kSelectTag, id), TagOf);
}

bool LeadStore::TagNameTaken(db::Transaction& tx, const std::string& name, const std::string& except_id) {
  return !tx.Exec(kTagNameTaken, name, except_id).empty();
}

std::vector<Tag> LeadStore::ListTags(db::Transaction& tx, const Position& after, int limit) {
  return db::AllRows<Tag>(tx.Exec(kListTags, after.key, after.id, limit), TagOf);
}

std::optional<Tag> LeadStore::UpdateTag(db::Transaction& tx, const std::string& id,
                                        const std::optional<std::string>& name,
                                        const std::optional<std::string>& color) {
  return db::FirstRow<Tag>(tx.Exec(kUpdateTag, id, name, color), TagOf);
}

bool LeadStore::SoftDeleteTag(db::Transaction& tx, const std::string& id) {
  return tx.Exec(kSoftDeleteTag, id)[0][0].as<long long>() > 0;
}

bool LeadStore::AttachTag(db::Transaction& tx, const std::string& lead_id, const std::string& tag_id) {
  return !tx.Exec(kAttachTag, lead_id, tag_id).empty();
}

bool LeadStore::DetachTag(db::Transaction& tx, const std::string& lead_id, const std::string& tag_id) {
  return !tx.Exec(kDetachTag, lead_id, tag_id).empty();
}

std::optional<LeadStore::Worker> LeadStore::FindWorker(db::Transaction& tx, const std::string& user_id,
                                                       const std::optional<std::string>& clinic_id) {
  return db::FirstRow<Worker>(tx.Exec(kSelectWorker, user_id, clinic_id), [](const pqxx::row& row) {
    return Worker{row[0].as<std::string>(), row[1].as<bool>()};
  });
}

LeadStore::Place LeadStore::CheckPlace(db::Transaction& tx, const std::string& clinic_id,
                                       const std::optional<std::string>& service_id) {
  const auto row = tx.Exec(kCheckPlace, clinic_id, service_id)[0];
  return {row[0].as<bool>(), row[1].as<bool>()};
}

std::optional<std::string> LeadStore::NextInTurn(db::Transaction& tx, const std::string& clinic_id) {
  const auto people = db::AllRows<std::string>(tx.Exec(kClinicSalespeople, clinic_id),
                                               [](const pqxx::row& row) { return row[0].as<std::string>(); });
  if (people.empty()) return std::nullopt;
  // The turn row is locked until commit: two leads of one clinic arriving at once go to two people.
  const auto last = tx.Exec(kLockTurn, clinic_id)[0][0].as<std::string>();
  auto next = std::upper_bound(people.begin(), people.end(), last);
  const std::string chosen = next == people.end() ? people.front() : *next;
  tx.Exec(kSaveTurn, clinic_id, chosen);
  return chosen;
}

std::optional<std::string> LeadStore::LeastLoaded(db::Transaction& tx, const std::string& clinic_id) {
  const auto rows = tx.Exec(kLeastLoaded, clinic_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

std::optional<std::string> LeadStore::FollowUpFallback(db::Transaction& tx,
                                                       const std::optional<std::string>& clinic_id) {
  const auto rows = tx.Exec(kFollowUpFallback, clinic_id);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

std::vector<QuietLead> LeadStore::FlagQuietLeads(db::Transaction& tx, int hours, int limit) {
  return db::AllRows<QuietLead>(tx.Exec(kFlagQuietLeads, hours, limit), [](const pqxx::row& row) {
    return QuietLead{row[0].as<std::string>(), OptionalText(row[1]), OptionalText(row[2]), row[3].as<std::string>()};
  });
}

}  // namespace clinicore::crm
