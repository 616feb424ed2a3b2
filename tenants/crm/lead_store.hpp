#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/db/database.hpp"
#include "tenants/crm/records.hpp"

namespace clinicore::crm {

// Whose leads a read may touch (CLINICORE_LEAD_VISIBLE): the caller's clinics (nullopt: all)
// and, for a salesperson, their id.
struct LeadScope {
  std::optional<std::vector<std::string>> clinic_ids;
  std::optional<std::string> salesperson_id;
};

struct LeadFilter {
  std::optional<std::string> status, owner_id, source, tag_id, clinic_id, created_from, created_to;
  std::optional<std::string> search_pattern;  // a LIKE pattern over folded text
};

struct LeadOrder {
  std::string column = "created_at";  // or "updated_at"
  bool descending = true;
};

// A keyset position: the sort key (microseconds) and id of the last row of the previous page.
struct Position {
  std::optional<std::string> key;
  std::optional<std::string> id;
};

struct NewLead {
  std::string first_name, last_name;
  std::optional<std::string> email, phone, external_id, clinic_id, service_id, owner_id;
  std::string source = "manual";
  nlohmann::json campaign = nlohmann::json::object();
  std::optional<Consent> consent;
};

// Each field set is written; the nested optionals may clear a nullable column.
struct LeadPatch {
  std::optional<std::string> first_name, last_name;
  std::optional<std::optional<std::string>> email, phone, external_id, clinic_id, service_id, owner_id;
  std::optional<nlohmann::json> campaign;
  std::optional<std::string> status, lost_reason;
  std::optional<Consent> consent;
  bool by_person = true;  // moves last_activity_at
  bool Empty() const {
    return !first_name && !last_name && !email && !phone && !external_id && !clinic_id && !service_id && !owner_id &&
           !campaign && !status && !consent;
  }
};

// A lead of a list, rendered as its JSON by the database, with its keyset positions.
struct ListedLead {
  std::string id;
  std::string created_key;
  std::string updated_key;
  std::string json;
};

struct QuietLead {
  std::string id;
  std::optional<std::string> owner_id, clinic_id;
  std::string quiet_since;
};

// The CRM module's SQL, one named statement each (queries.hpp), inside the caller's tenant
// transaction. Rows become records here and nowhere else.
class LeadStore {
 public:
  static void RegisterStatements(db::Database& database);

  static CrmSettings LoadSettings(db::Transaction& tx);
  static void SaveSetting(db::Transaction& tx, const std::string& key, const nlohmann::json& value);

  static void LockIdentity(db::Transaction& tx, const std::string& value);
  static std::optional<Lead> FindDuplicate(db::Transaction& tx, const std::optional<std::string>& email,
                                           const std::optional<std::string>& phone, int window_days);
  static Lead Insert(db::Transaction& tx, const NewLead& lead);
  static std::optional<Lead> Find(db::Transaction& tx, const LeadScope& scope, const std::string& id,
                                  bool for_update = false);
  static std::optional<Lead> FindAnyForUpdate(db::Transaction& tx, const std::string& id);
  static std::optional<std::string> LeadOfClient(db::Transaction& tx, const std::string& client_id);
  static std::optional<Lead> Update(db::Transaction& tx, const std::string& id, const LeadPatch& patch);
  static void Touch(db::Transaction& tx, const std::string& id);
  static bool SoftDelete(db::Transaction& tx, const std::string& id);
  static std::vector<ListedLead> List(db::Transaction& tx, const LeadScope& scope, const LeadFilter& filter,
                                      const LeadOrder& order, const Position& after, int limit);

  // nullopt when the event it came from was recorded already.
  static std::optional<Activity> AddActivity(db::Transaction& tx, const std::string& lead_id, const std::string& kind,
                                             const std::optional<std::string>& actor_id, const nlohmann::json& details,
                                             const std::optional<std::string>& event_id = std::nullopt);
  static std::vector<Activity> ListActivities(db::Transaction& tx, const std::string& lead_id, const Position& after,
                                              int limit);

  // nullopt when a live tag has the name already.
  static std::optional<Tag> InsertTag(db::Transaction& tx, const std::string& name, const std::string& color);
  static std::optional<Tag> FindTag(db::Transaction& tx, const std::string& id);
  static bool TagNameTaken(db::Transaction& tx, const std::string& name, const std::string& except_id);
  static std::vector<Tag> ListTags(db::Transaction& tx, const Position& after, int limit);
  static std::optional<Tag> UpdateTag(db::Transaction& tx, const std::string& id,
                                      const std::optional<std::string>& name, const std::optional<std::string>& color);
  static bool SoftDeleteTag(db::Transaction& tx, const std::string& id);
  static bool AttachTag(db::Transaction& tx, const std::string& lead_id, const std::string& tag_id);
  static bool DetachTag(db::Transaction& tx, const std::string& lead_id, const std::string& tag_id);

  // The role of an account that may work, and whether it works at `clinic_id` (true when none).
  struct Worker {
    std::string role;
    bool at_clinic = false;
  };
  static std::optional<Worker> FindWorker(db::Transaction& tx, const std::string& user_id,
                                          const std::optional<std::string>& clinic_id);
  struct Place {
    bool clinic = false;   // the clinic is live
    bool service = false;  // the service (when given) is a live one of that clinic
  };
  static Place CheckPlace(db::Transaction& tx, const std::string& clinic_id,
                          const std::optional<std::string>& service_id);
  // The next of the clinic's salespeople after the one who got its last lead (round-robin).
  static std::optional<std::string> NextInTurn(db::Transaction& tx, const std::string& clinic_id);
  static std::optional<std::string> LeastLoaded(db::Transaction& tx, const std::string& clinic_id);
  static std::optional<std::string> FollowUpFallback(db::Transaction& tx, const std::optional<std::string>& clinic_id);

  static std::vector<QuietLead> FlagQuietLeads(db::Transaction& tx, int hours, int limit);
};

}  // namespace clinicore::crm
