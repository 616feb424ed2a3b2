// The CRM and tasks modules over HTTP against the real binaries (`serve` and `work`): every
// route, dedupe by email and phone within the tenant's window, the status machine, search
// (accents, partial phone numbers), cursor paging over 10,000 leads while leads arrive, the
// per-role visibility, tags, and the follow-up and stale-lead tasks a real worker creates.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "tests/harness/api_server.hpp"
#include "tests/harness/harness.hpp"
#include "tests/harness/wait.hpp"

namespace clinicore {
namespace {

using nlohmann::json;
using testing::ApiServer;
using testing::FirstErrorField;
using testing::HttpReply;
using testing::ServerProcess;
using testing::WaitFor;
using Millis = std::chrono::milliseconds;

constexpr Millis kWorkerBound{30'000};  // a bound for a loaded machine, not an expectation

json Body(const HttpReply& reply) {
  return json::parse(reply.body, nullptr, false);
}

class CrmE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ApiServer(std::map<std::string, std::string>{{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "100000"},
                                                               {"CLINICORE_TENANT_REQUESTS_PER_MINUTE", "1000000"}});
    server_->CreateTenant("crm-a");
    server_->CreateTenant("crm-b");
    for (const std::string who : {"admin", "clinic_owner", "doctor", "secretariat", "salesperson", "client"}) {
      AddUser(who, who);
    }
    AddUser("salesperson2", "salesperson");
    AddUser("salesperson3", "salesperson");
    AddUser("secretariat2", "secretariat");
    clinic_a_ = CreateClinic("Glow Athens");
    clinic_b_ = CreateClinic("Glow Patras");
    for (const std::string who : {"secretariat", "salesperson", "salesperson3", "doctor"}) Staff(clinic_a_, who);
    for (const std::string who : {"salesperson2", "secretariat2"}) Staff(clinic_b_, who);
    auto service = As("admin", "POST", "/v1/clinics/" + clinic_a_ + "/services",
                      {{"name", "Botox"}, {"duration_minutes", 30}, {"price_minor", 20000}});
    service_a_ = Body(service).value("id", "");
    bearer_b_ = ApiServer::Bearer(server_->Login("crm-b", "owner@crm-b.test"));

    auto env = server_->env();
    env["CLINICORE_WORK_METRICS_ADDRESS"] = "127.0.0.1";
    env["CLINICORE_WORK_METRICS_PORT"] = "0";
    env["CLINICORE_WORK_POLL_INTERVAL_MS"] = "100";
    env["CLINICORE_WORK_IDLE_POLL_INTERVAL_MS"] = "200";
    worker_ = new ServerProcess({"work"}, env);
  }
  static void TearDownTestSuite() {
    delete worker_;
    delete server_;
  }

  static void AddUser(const std::string& who, const std::string& role) {
    ids_[who] = server_->EnsureUser("crm-a", who + "@crm-a.test", role);
    bearers_[who] = ApiServer::Bearer(server_->Login("crm-a", who + "@crm-a.test"));
  }
  static HttpReply As(const std::string& who, const std::string& method, const std::string& path,
                      const json& body = nullptr) {
    return server_->TenantCall("crm-a", method, path, body, bearers_.at(who));
  }
  static std::string CreateClinic(const std::string& name) {
    auto reply = As("clinic_owner", "POST", "/v1/clinics",
                    {{"name", name},
                     {"time_zone", "Europe/Athens"},
                     {"currency", "EUR"},
                     {"opening_hours", json::object({{"mon", {{{"open", "09:00"}, {"close", "17:00"}}}}})}});
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Body(reply).value("id", "");
  }
  static void Staff(const std::string& clinic, const std::string& who) {
    auto reply = As("admin", "POST", "/v1/clinics/" + clinic + "/staff/" + ids_.at(who));
    EXPECT_EQ(reply.status, 201) << reply.body;
  }
  static json NewLead(const std::string& email, const std::string& phone = "") {
    json lead = {{"first_name", "Maria"}, {"last_name", "Papadopoulou"}, {"email", email}, {"clinic_id", clinic_a_}};
    if (!phone.empty()) lead["phone"] = phone;
    return lead;
  }
  static json CreateLead(const std::string& who, const json& body, int expected = 201) {
    auto reply = As(who, "POST", "/v1/crm/leads", body);
    EXPECT_EQ(reply.status, expected) << reply.body;
    return Body(reply);
  }
  static long long Count(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec(sql)[0][0].as<long long>();
  }
  static void Exec(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    tx.exec(sql);
  }
  static std::set<std::string> Ids(const HttpReply& reply) {
    std::set<std::string> ids;
    const json body = Body(reply);
    for (const auto& item : body["items"]) ids.insert(item["id"].get<std::string>());
    return ids;
  }
  static json Timeline(const std::string& lead_id) {
    auto reply = As("admin", "GET", "/v1/crm/leads/" + lead_id);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Body(reply)["timeline"]["items"];
  }
  // What people did, newest first: without the entries the worker adds when it gets to them
  // (the follow-up task of every new lead), so the order does not depend on its timing.
  static json PeopleTimeline(const std::string& lead_id) {
    json people = json::array();
    for (const auto& entry : Timeline(lead_id)) {
      if (entry["kind"] != "task" && entry["kind"] != "task_due") people.push_back(entry);
    }
    return people;
  }
  static bool TimelineHas(const std::string& lead_id, const std::string& kind) {
    const json items = Timeline(lead_id);
    return std::any_of(items.begin(), items.end(), [&](const json& a) { return a["kind"] == kind; });
  }
  static long long TasksOf(const std::string& lead_id, const std::string& assignee) {
    return Count("SELECT count(*) FROM t_crm_a.tasks WHERE type = 'follow_up' AND lead_id = '" + lead_id +
                 "' AND assignee_id = '" + assignee + "'");
  }

  static ApiServer* server_;
  static ServerProcess* worker_;
  static std::map<std::string, std::string> ids_;
  static std::map<std::string, std::string> bearers_;
  static std::string clinic_a_, clinic_b_, service_a_, bearer_b_;
};
ApiServer* CrmE2eTest::server_ = nullptr;
ServerProcess* CrmE2eTest::worker_ = nullptr;
std::map<std::string, std::string> CrmE2eTest::ids_;
std::map<std::string, std::string> CrmE2eTest::bearers_;
std::string CrmE2eTest::clinic_a_, CrmE2eTest::clinic_b_, CrmE2eTest::service_a_, CrmE2eTest::bearer_b_;

TEST_F(CrmE2eTest, ALeadIsCreatedWorkedAndDeleted) {
  json body = NewLead("maria.life@a.test", "+306912345601");
  body["service_id"] = service_a_;
  body["source"] = "manual";
  body["campaign"] = {{"ad", "spring"}};
  body["consent"] = {{"marketing", true}, {"contact", true}, {"method", "web_form"}};
  auto created = As("secretariat", "POST", "/v1/crm/leads", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const json lead = Body(created);
  const std::string id = lead["id"];
  EXPECT_EQ(created.Header("location").value_or(""), "/v1/crm/leads/" + id);
  EXPECT_EQ(lead["status"], "new");
  EXPECT_EQ(lead["consent"]["method"], "web_form");
  EXPECT_FALSE(lead["consent"]["given_at"].get<std::string>().empty());
  EXPECT_TRUE(lead["owner_id"].is_null());  // assignment "none" by default

  // The machine: one step at a time, lost with a reason from any state before won.
  auto skip = As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "qualified"}});
  EXPECT_EQ(skip.status, 409) << skip.body;
  EXPECT_EQ(FirstErrorField(skip), "status");
  EXPECT_EQ(As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "contacted"}}).status, 200);
  auto lost_without_reason = As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "lost"}});
  EXPECT_EQ(lost_without_reason.status, 400);
  EXPECT_EQ(FirstErrorField(lost_without_reason), "lost_reason");
  auto lost = As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "lost"}, {"lost_reason", "price"}});
  ASSERT_EQ(lost.status, 200) << lost.body;
  EXPECT_EQ(Body(lost)["lost_reason"], "price");
  EXPECT_EQ(FirstErrorField(As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "won"}})), "status");
  auto reopened = As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "contacted"}});
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_TRUE(Body(reopened)["lost_reason"].is_null());
  for (const std::string step : {"qualified", "booked", "won"}) {
    EXPECT_EQ(As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", step}}).status, 200) << step;
  }
  EXPECT_EQ(As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"status", "lost"}, {"lost_reason", "x"}}).status, 409);

  // Fields, notes, assignment: each on the timeline, newest first.
  auto renamed = As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"first_name", "María"}, {"phone", nullptr}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_TRUE(Body(renamed)["phone"].is_null());
  EXPECT_EQ(FirstErrorField(As("secretariat", "PATCH", "/v1/crm/leads/" + id, {{"email", nullptr}})), "email");
  auto note = As("secretariat", "POST", "/v1/crm/leads/" + id + "/notes", {{"text", "Called, wants Friday."}});
  ASSERT_EQ(note.status, 201) << note.body;
  EXPECT_EQ(Body(note)["kind"], "note");
  auto assigned = As("secretariat", "POST", "/v1/crm/leads/" + id + "/assign", {{"owner_id", ids_["salesperson"]}});
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(Body(assigned)["owner_id"], ids_["salesperson"]);
  // An owner works at the lead's clinic and sells.
  EXPECT_EQ(
      FirstErrorField(As("admin", "POST", "/v1/crm/leads/" + id + "/assign", {{"owner_id", ids_["salesperson2"]}})),
      "owner_id");
  EXPECT_EQ(FirstErrorField(As("admin", "POST", "/v1/crm/leads/" + id + "/assign", {{"owner_id", ids_["doctor"]}})),
            "owner_id");

  const json timeline = PeopleTimeline(id);
  ASSERT_GE(timeline.size(), 9u);
  EXPECT_EQ(timeline[0]["kind"], "assigned");
  EXPECT_EQ(timeline[1]["kind"], "note");
  EXPECT_EQ(timeline[1]["details"]["text"], "Called, wants Friday.");
  EXPECT_EQ(timeline.back()["kind"], "created");
  auto activities = As("secretariat", "GET", "/v1/crm/leads/" + id + "/activities?limit=2");
  ASSERT_EQ(activities.status, 200) << activities.body;
  EXPECT_EQ(Body(activities)["items"].size(), 2u);
  EXPECT_TRUE(Body(activities)["next_cursor"].is_string());

  EXPECT_EQ(Count("SELECT count(*) FROM t_crm_a.audit_log WHERE entity = 'lead' AND entity_id = '" + id + "'"), 10);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
                  "'lead.status_changed' AND payload->'payload'->>'lead_id' = '" +
                  id + "'"),
            6);

  // A list renders a lead (in SQL) exactly as a read does (in C++).
  json read = Body(As("admin", "GET", "/v1/crm/leads/" + id));
  read.erase("timeline");
  const json listed = Body(As("admin", "GET", "/v1/crm/leads?search=maria.life"));
  ASSERT_EQ(listed["items"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["items"][0], read);

  EXPECT_EQ(As("secretariat", "DELETE", "/v1/crm/leads/" + id).status, 403);
  EXPECT_EQ(As("clinic_owner", "DELETE", "/v1/crm/leads/" + id).status, 204);
  EXPECT_EQ(As("admin", "GET", "/v1/crm/leads/" + id).status, 404);
  EXPECT_EQ(As("admin", "DELETE", "/v1/crm/leads/" + id).status, 404);
}

TEST_F(CrmE2eTest, ADuplicateByEmailOrPhoneMergesIntoTheLiveLead) {
  const json first = CreateLead("admin", NewLead("Dup.Email@A.test", "+306900000001"));
  // Same email in another case: merged, 200, the existing lead, the merge on its timeline.
  json again = NewLead("dup.email@a.test");
  again["last_name"] = "Other";
  again["source"] = "facebook-leads";
  const json merged = CreateLead("admin", again, 200);
  EXPECT_EQ(merged["id"], first["id"]);
  EXPECT_EQ(merged["last_name"], "Papadopoulou");  // known fields stay
  // Same phone, new email: merged too, and the email it lacked... it had one, so it stays.
  const json by_phone = CreateLead("admin", NewLead("someone.else@a.test", "+306900000001"), 200);
  EXPECT_EQ(by_phone["id"], first["id"]);
  const json timeline = PeopleTimeline(first["id"]);
  EXPECT_EQ(std::count_if(timeline.begin(), timeline.end(), [](const json& a) { return a["kind"] == "merged"; }), 2);
  EXPECT_EQ(timeline[0]["details"]["arrival"]["email"], "someone.else@a.test");
  EXPECT_EQ(Count("SELECT count(*) FROM t_crm_a.leads WHERE email_normalized = 'dup.email@a.test'"), 1);
  // Into a lead the caller may not see: merged all the same, only its id told.
  const json theirs = CreateLead("salesperson3", NewLead("dup.theirs@a.test"));
  const json hidden = CreateLead("salesperson", NewLead("dup.theirs@a.test"), 200);
  EXPECT_EQ(hidden, (json{{"id", theirs["id"]}, {"merged", true}}));

  // Outside the window it is a new lead.
  Exec("UPDATE t_crm_a.leads SET created_at = now() - interval '91 days' WHERE id = '" +
       first["id"].get<std::string>() + "'");
  const json fresh = CreateLead("admin", NewLead("dup.email@a.test"), 201);
  EXPECT_NE(fresh["id"], first["id"]);
  // A shorter window from the settings, and none at all.
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"dedupe_window_days", 0}}).status, 200);
  EXPECT_NE(CreateLead("admin", NewLead("dup.email@a.test"), 201)["id"], fresh["id"]);
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"dedupe_window_days", 90}}).status, 200);

  // Two arrivals of one person at once become one lead and a merge, never two leads or a 500.
  std::atomic<int> created{0}, merges{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto reply = As("admin", "POST", "/v1/crm/leads", NewLead("race@a.test", "+306900000099"));
      if (reply.status == 201) ++created;
      if (reply.status == 200) ++merges;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(merges.load(), 3);
}

TEST_F(CrmE2eTest, BadInputIsA400NamingThePart) {
  struct Case {
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"first_name", "No contact"}}, "email"},
      {{{"email", nullptr}}, "email"},
      {{{"email", "not-an-email"}}, "email"},
      {{{"email", "a@a.test"}, {"phone", "6912345678"}}, "phone"},
      {{{"email", "a@a.test"}, {"clinic_id", "not-a-uuid"}}, "clinic_id"},
      {{{"email", "a@a.test"}, {"owner_id", "{00000000-0000-0000-0000-000000000000}"}}, "owner_id"},
      {{{"email", "a@a.test"}, {"source", "Bad Source!"}}, "source"},
      {{{"email", "a@a.test"}, {"campaign", "spring"}}, "campaign"},
      {{{"email", "a@a.test"}, {"consent", {{"marketing", true}, {"contact", true}}}}, "consent.method"},
      {{{"email", "a@a.test"}, {"consent", {{"marketing", "yes"}, {"contact", true}, {"method", "x"}}}},
       "consent.marketing"},
      {{{"email", "a@a.test"}, {"status", "won"}}, "status"},  // unknown on create
      {{{"email", "a@a.test"}, {"colour", "red"}}, "colour"},
      {{{"email", "a@a.test"}, {"first_name", std::string(101, 'x')}}, "first_name"},
      {{{"email", "a@a.test"}, {"clinic_id", "00000000-0000-4000-8000-000000000001"}}, "clinic_id"},
      {{{"email", "a@a.test"}, {"service_id", "00000000-0000-4000-8000-000000000001"}}, "service_id"},
  };
  for (const auto& c : cases) {
    auto reply = As("admin", "POST", "/v1/crm/leads", c.body);
    EXPECT_EQ(reply.status, 400) << c.body.dump() << " " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), c.field) << c.body.dump();
    EXPECT_EQ(reply.Header("content-type").value_or(""), "application/problem+json");
  }
  const json lead = CreateLead("admin", NewLead("bad.input@a.test"));
  const std::string id = lead["id"];
  auto long_note = As("admin", "POST", "/v1/crm/leads/" + id + "/notes", {{"text", std::string(10'001, 'n')}});
  EXPECT_EQ(long_note.status, 400);
  EXPECT_EQ(FirstErrorField(long_note), "text");
  EXPECT_EQ(As("admin", "POST", "/v1/crm/leads/" + id + "/notes", {{"text", std::string(10'000, 'n')}}).status, 201);
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/crm/leads/not-a-uuid")), "id");
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/crm/leads/" + id, json::object())), "body");
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/crm/leads/" + id, {{"status", "archived"}})), "status");
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/crm/leads/" + id, {{"lost_reason", "x"}})), "lost_reason");
  EXPECT_EQ(FirstErrorField(As("admin", "POST", "/v1/crm/leads/" + id + "/assign", json::object())), "owner_id");
  for (const std::string query : {"limit=0", "limit=101", "limit=abc", "cursor=forged", "status=open", "sort=name",
                                  "created_from=yesterday", "owner_id=1", "colour=red"}) {
    auto reply = As("admin", "GET", "/v1/crm/leads?" + query);
    EXPECT_EQ(reply.status, 400) << query << " " << reply.body;
    const std::string name = query.substr(0, query.find('='));
    EXPECT_EQ(FirstErrorField(reply), name) << query;
  }
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/crm/settings", {{"assignment", "random"}})), "assignment");
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/crm/settings", {{"stale_after_hours", 0}})), "stale_after_hours");
}

TEST_F(CrmE2eTest, EachRoleSeesTheLeadsItShould) {
  const std::string owned = CreateLead("salesperson", NewLead("vis.owned@a.test"))["id"];  // theirs
  const std::string unowned = CreateLead("admin", NewLead("vis.unowned@a.test"))["id"];
  const std::string other = CreateLead("salesperson3", NewLead("vis.other@a.test"))["id"];
  json at_b = NewLead("vis.b@a.test");
  at_b["clinic_id"] = clinic_b_;
  const std::string clinic_b_lead = CreateLead("admin", at_b)["id"];

  auto sees = [&](const std::string& who, const std::string& id) {
    return As(who, "GET", "/v1/crm/leads/" + id).status;
  };
  EXPECT_EQ(sees("salesperson", owned), 200);
  EXPECT_EQ(sees("salesperson", unowned), 200);
  EXPECT_EQ(sees("salesperson", other), 404);
  EXPECT_EQ(sees("salesperson", clinic_b_lead), 404);
  EXPECT_EQ(sees("secretariat", other), 200);
  EXPECT_EQ(sees("secretariat", clinic_b_lead), 404);
  EXPECT_EQ(sees("secretariat2", clinic_b_lead), 200);
  EXPECT_EQ(sees("clinic_owner", clinic_b_lead), 200);
  EXPECT_EQ(sees("doctor", owned), 403);
  EXPECT_EQ(sees("client", owned), 403);
  EXPECT_EQ(As("doctor", "GET", "/v1/crm/leads").status, 403);
  // Another tenant's owner sees nothing of this one.
  EXPECT_EQ(server_->TenantCall("crm-b", "GET", "/v1/crm/leads/" + owned, nullptr, bearer_b_).status, 404);
  auto b_list = server_->TenantCall("crm-b", "GET", "/v1/crm/leads", nullptr, bearer_b_);
  ASSERT_EQ(b_list.status, 200) << b_list.body;
  EXPECT_TRUE(Body(b_list)["items"].empty());

  auto listed = As("salesperson", "GET", "/v1/crm/leads?limit=100&search=vis.");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(Ids(listed), (std::set<std::string>{owned, unowned}));
  // A salesperson claims an unowned lead, never someone else's.
  EXPECT_EQ(
      As("salesperson", "POST", "/v1/crm/leads/" + unowned + "/assign", {{"owner_id", ids_["salesperson3"]}}).status,
      403);
  EXPECT_EQ(
      As("salesperson", "POST", "/v1/crm/leads/" + unowned + "/assign", {{"owner_id", ids_["salesperson"]}}).status,
      200);
  EXPECT_EQ(sees("salesperson3", unowned), 404);

  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"salesperson_sees_all", true}}).status, 200);
  EXPECT_EQ(sees("salesperson", other), 200);
  EXPECT_EQ(sees("salesperson", clinic_b_lead), 200);
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"salesperson_sees_all", false}}).status, 200);
  EXPECT_EQ(sees("salesperson", other), 404);
  auto settings = As("clinic_owner", "GET", "/v1/crm/settings");
  ASSERT_EQ(settings.status, 200);
  EXPECT_EQ(Body(settings), (json{{"dedupe_window_days", 90},
                                  {"salesperson_sees_all", false},
                                  {"assignment", "none"},
                                  {"stale_after_hours", 48}}));
  EXPECT_EQ(As("clinic_owner", "PATCH", "/v1/crm/settings", {{"assignment", "round_robin"}}).status, 403);
}

TEST_F(CrmE2eTest, SearchFindsAccentsAndPartialPhoneNumbers) {
  json mueller = {
      {"first_name", "Jürgen"}, {"last_name", "Müller"}, {"email", "jm@search.test"}, {"phone", "+4915112345678"}};
  const std::string id = CreateLead("admin", mueller)["id"];
  json eleni = {{"first_name", "Ελένη"}, {"last_name", "Ζαχαρίου"}, {"phone", "+306977001122"}};
  const std::string greek = CreateLead("admin", eleni)["id"];
  auto search = [&](const std::string& term) {
    auto reply = As("admin", "GET", "/v1/crm/leads?limit=100&search=" + term);
    EXPECT_EQ(reply.status, 200) << term << " " << reply.body;
    return Ids(reply);
  };
  EXPECT_EQ(search("muller").count(id), 1u);
  EXPECT_EQ(search("M%C3%9CLLER").count(id), 1u);  // "MÜLLER"
  EXPECT_EQ(search("jurgen%20mu").count(id), 1u);
  EXPECT_EQ(search("12345678").count(id), 1u);
  EXPECT_EQ(search("%2B49%20151%20123").count(id), 1u);  // "+49 151 123"
  EXPECT_EQ(search("jm%40search").count(id), 1u);
  EXPECT_EQ(search("%CE%B5%CE%BB%CE%AD%CE%BD%CE%B7").count(greek), 1u);  // "ελένη"
  EXPECT_EQ(search("6977-001").count(greek), 1u);
  EXPECT_EQ(search("nobody-matches-this").size(), 0u);
  EXPECT_EQ(search("100%25").size(), 0u);  // "100%": a literal percent, not a wildcard
}

TEST_F(CrmE2eTest, CursorPagingOver10000LeadsHasNoRepeatsAndNoGapsWhileLeadsArrive) {
  Exec(
      "INSERT INTO t_crm_a.leads (first_name, email, email_normalized, source) "
      "SELECT 'Bulk', 'bulk' || g || '@page.test', 'bulk' || g || '@page.test', 'import' "
      "FROM generate_series(1, 10000) g");
  std::set<std::string> bulk;
  {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    for (const auto& row : tx.exec("SELECT id::text FROM t_crm_a.leads WHERE source = 'import'")) {
      bulk.insert(row[0].as<std::string>());
    }
  }
  ASSERT_EQ(bulk.size(), 10'000u);
  for (const std::string sort : {"created_at", "-created_at", "-updated_at"}) {
    std::atomic<bool> stop{false};
    std::thread arrivals([&] {
      for (int i = 0; i < 40 && !stop; ++i) {
        json lead = {{"email", "arrival." + sort + std::to_string(i) + "@page.test"}, {"source", "import"}};
        As("admin", "POST", "/v1/crm/leads", lead);
      }
    });
    std::vector<std::string> seen;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
      std::string path = "/v1/crm/leads?source=import&limit=100&sort=" + sort;
      if (!cursor.empty()) path += "&cursor=" + cursor;
      auto reply = As("salesperson", "GET", path);  // unowned, clinic-less: not theirs
      ASSERT_EQ(reply.status, 200) << reply.body;
      EXPECT_TRUE(Body(reply)["items"].empty());
      reply = As("admin", "GET", path);
      ASSERT_EQ(reply.status, 200) << reply.body;
      const json body = Body(reply);
      for (const auto& item : body["items"]) seen.push_back(item["id"]);
      if (body["next_cursor"].is_null()) break;
      cursor = body["next_cursor"];
    }
    stop = true;
    arrivals.join();
    const std::set<std::string> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << sort << ": a lead was listed twice";
    for (const auto& id : bulk) ASSERT_EQ(unique.count(id), 1u) << sort << ": lead " << id << " was skipped";
  }
}

TEST_F(CrmE2eTest, AListedPageFollowsEveryChangeWhoeverMakesIt) {
  const std::string lead = CreateLead("admin", NewLead("cache.page@a.test"))["id"];
  const std::string path = "/v1/crm/leads?limit=5&clinic_id=" + clinic_a_;
  auto first_name_listed = [&] {
    const json body = Body(As("admin", "GET", path));
    for (const auto& item : body["items"]) {
      if (item["id"] == lead) return item["first_name"].get<std::string>();
    }
    return std::string("(not listed)");
  };
  EXPECT_EQ(first_name_listed(), "Maria");
  EXPECT_EQ(first_name_listed(), "Maria");  // the same page again, now from the cache
  // Through the API: the writer's own next read sees it at once.
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/leads/" + lead, {{"first_name", "Marina"}}).status, 200);
  EXPECT_EQ(first_name_listed(), "Marina");
  // Another writer (here plain SQL, like a worker or another replica): PostgreSQL's notice.
  Exec("UPDATE t_crm_a.leads SET first_name = 'Mara' WHERE id = '" + lead + "'");
  EXPECT_TRUE(WaitFor([&] { return first_name_listed() == "Mara"; }, kWorkerBound));
  // A setting that changes what a salesperson sees reaches their cached page too.
  const std::string others = CreateLead("salesperson3", NewLead("cache.others@a.test"))["id"];
  auto salesperson_sees = [&] { return Ids(As("salesperson", "GET", "/v1/crm/leads?limit=100")).count(others) == 1; };
  EXPECT_FALSE(salesperson_sees());
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"salesperson_sees_all", true}}).status, 200);
  EXPECT_TRUE(salesperson_sees());
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"salesperson_sees_all", false}}).status, 200);
  EXPECT_FALSE(salesperson_sees());
}

TEST_F(CrmE2eTest, TagsAreNamedOnceAndFilterLeads) {
  auto vip = As("clinic_owner", "POST", "/v1/admin/tags", {{"name", "VIP"}, {"color", "#ff0000"}});
  ASSERT_EQ(vip.status, 201) << vip.body;
  const std::string tag = Body(vip)["id"];
  auto duplicate = As("admin", "POST", "/v1/admin/tags", {{"name", "vip"}});
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(FirstErrorField(duplicate), "name");
  EXPECT_EQ(FirstErrorField(As("admin", "POST", "/v1/admin/tags", {{"name", "x"}, {"color", "red"}})), "color");
  EXPECT_EQ(As("salesperson", "POST", "/v1/admin/tags", {{"name", "Mine"}}).status, 403);
  const std::string other = Body(As("admin", "POST", "/v1/admin/tags", {{"name", "Botox"}}))["id"];
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/admin/tags/" + other, {{"name", "VIP"}})), "name");
  auto listed = As("salesperson", "GET", "/v1/admin/tags");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_GE(Body(listed)["items"].size(), 2u);

  const std::string lead = CreateLead("admin", NewLead("tagged@a.test"))["id"];
  auto tagged = As("secretariat", "POST", "/v1/crm/leads/" + lead + "/tags/" + tag);
  ASSERT_EQ(tagged.status, 200) << tagged.body;
  EXPECT_EQ(Body(tagged)["tags"], json::array({tag}));
  EXPECT_EQ(As("secretariat", "POST", "/v1/crm/leads/" + lead + "/tags/" + tag).status, 200);  // once
  EXPECT_EQ(As("admin", "GET", "/v1/crm/leads?tag=" + tag).status, 200);
  EXPECT_EQ(Ids(As("admin", "GET", "/v1/crm/leads?tag=" + tag)), std::set<std::string>{lead});
  EXPECT_EQ(As("admin", "POST", "/v1/crm/leads/" + lead + "/tags/00000000-0000-4000-8000-000000000009").status, 404);
  EXPECT_TRUE(TimelineHas(lead, "tagged"));
  auto untagged = As("secretariat", "DELETE", "/v1/crm/leads/" + lead + "/tags/" + tag);
  ASSERT_EQ(untagged.status, 200);
  EXPECT_TRUE(Body(untagged)["tags"].empty());
  As("secretariat", "POST", "/v1/crm/leads/" + lead + "/tags/" + tag);
  ASSERT_EQ(As("admin", "DELETE", "/v1/admin/tags/" + tag).status, 204);
  EXPECT_TRUE(Body(As("admin", "GET", "/v1/crm/leads/" + lead))["tags"].empty());
  EXPECT_EQ(As("admin", "PATCH", "/v1/admin/tags/" + tag, {{"name", "Gone"}}).status, 404);
  EXPECT_EQ(As("admin", "POST", "/v1/admin/tags", {{"name", "VIP"}}).status, 201);  // the name is free again
}

TEST_F(CrmE2eTest, LeadsWithoutAnOwnerAreAssignedByTheTenantsRule) {
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"assignment", "round_robin"}}).status, 200);
  std::vector<std::string> owners;
  for (int i = 0; i < 4; ++i)
    owners.push_back(CreateLead("secretariat", NewLead("rr" + std::to_string(i) + "@a.test"))["owner_id"]);
  EXPECT_NE(owners[0], owners[1]);
  EXPECT_EQ(owners[0], owners[2]);
  EXPECT_EQ(owners[1], owners[3]);
  EXPECT_EQ((std::set<std::string>{owners[0], owners[1]}),
            (std::set<std::string>{ids_["salesperson"], ids_["salesperson3"]}));
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"assignment", "least_open"}}).status, 200);
  const auto open_of = [&](const std::string& who) {
    return Count(
        "SELECT count(*) FROM t_crm_a.leads WHERE deleted_at IS NULL AND status NOT IN ('won', 'lost') "
        "AND owner_id = '" +
        ids_[who] + "'");
  };
  // The one with fewer open leads; on a tie, the lower id.
  const auto one = open_of("salesperson"), three = open_of("salesperson3");
  const std::string lighter = one != three ? ids_[one < three ? "salesperson" : "salesperson3"]
                                           : std::min(ids_["salesperson"], ids_["salesperson3"]);
  EXPECT_EQ(CreateLead("secretariat", NewLead("lo@a.test"))["owner_id"], lighter);
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/settings", {{"assignment", "none"}}).status, 200);
  // A salesperson's own lead is theirs whatever the rule.
  EXPECT_EQ(CreateLead("salesperson3", NewLead("mine@a.test"))["owner_id"], ids_["salesperson3"]);
}

TEST_F(CrmE2eTest, TasksAreMadeListedAndClosed) {
  const std::string lead = CreateLead("admin", NewLead("task.lead@a.test"))["id"];
  json task = {{"title", "Call back"},
               {"type", "call"},
               {"due_at", "2031-01-01T10:00:00+02:00"},
               {"assignee_id", ids_["salesperson"]},
               {"lead_id", lead},
               {"notes", "Prefers mornings"}};
  auto created = As("secretariat", "POST", "/v1/tasks", task);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Body(created)["id"];
  EXPECT_EQ(Body(created)["due_at"], "2031-01-01T08:00:00.000Z");
  EXPECT_EQ(Body(created)["status"], "open");
  EXPECT_EQ(As("salesperson", "GET", "/v1/tasks/" + id).status, 200);   // assigned to them
  EXPECT_EQ(As("secretariat", "GET", "/v1/tasks/" + id).status, 200);   // made by them
  EXPECT_EQ(As("salesperson3", "GET", "/v1/tasks/" + id).status, 404);  // neither
  EXPECT_EQ(As("clinic_owner", "GET", "/v1/tasks/" + id).status, 200);
  EXPECT_EQ(As("client", "GET", "/v1/tasks").status, 403);
  auto mine = As("salesperson", "GET", "/v1/tasks?status=open&type=call&lead_id=" + lead);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Ids(mine), std::set<std::string>{id});
  auto done = As("salesperson", "PATCH", "/v1/tasks/" + id, {{"status", "done"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_TRUE(Body(done)["completed_at"].is_string());
  EXPECT_EQ(Ids(As("salesperson", "GET", "/v1/tasks?status=open&lead_id=" + lead)).count(id), 0u);

  const std::vector<std::pair<json, std::string>> bad = {
      {{{"title", "x"}, {"type", "visit"}, {"due_at", "2031-01-01T10:00:00Z"}, {"assignee_id", ids_["admin"]}}, "type"},
      {{{"title", "x"}, {"type", "call"}, {"due_at", "tomorrow"}, {"assignee_id", ids_["admin"]}}, "due_at"},
      {{{"title", "x"}, {"type", "call"}, {"due_at", "2031-01-01T10:00:00Z"}, {"assignee_id", ids_["client"]}},
       "assignee_id"},
      {{{"title", "x"}, {"type", "call"}, {"due_at", "2031-01-01T10:00:00Z"}, {"assignee_id", "nope"}}, "assignee_id"},
      {{{"title", ""}, {"type", "call"}, {"due_at", "2031-01-01T10:00:00Z"}, {"assignee_id", ids_["admin"]}}, "title"},
      {{{"title", "x"},
        {"type", "call"},
        {"due_at", "2031-01-01T10:00:00Z"},
        {"assignee_id", ids_["admin"]},
        {"lead_id", "00000000-0000-4000-8000-000000000001"}},
       "lead_id"},
      {{{"title", "x"},
        {"type", "call"},
        {"due_at", "2031-01-01T10:00:00Z"},
        {"assignee_id", ids_["admin"]},
        {"notes", std::string(10'001, 'n')}},
       "notes"},
  };
  for (const auto& [body, field] : bad) {
    auto reply = As("admin", "POST", "/v1/tasks", body);
    EXPECT_EQ(reply.status, 400) << body.dump().substr(0, 200);
    EXPECT_EQ(FirstErrorField(reply), field);
  }
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/tasks/" + id, {{"status", "paused"}})), "status");
  // A task names only a lead its maker can see (the CRM's rule): not another salesperson's.
  const std::string theirs = CreateLead("salesperson3", NewLead("task.theirs@a.test"))["id"];
  json on_theirs = task;
  on_theirs["lead_id"] = theirs;
  EXPECT_EQ(FirstErrorField(As("salesperson", "POST", "/v1/tasks", on_theirs)), "lead_id");
  EXPECT_EQ(FirstErrorField(As("doctor", "POST", "/v1/tasks", on_theirs)), "lead_id");
  EXPECT_EQ(As("salesperson3", "POST", "/v1/tasks", on_theirs).status, 201);
  EXPECT_EQ(As("secretariat", "POST", "/v1/tasks", on_theirs).status, 201);  // a lead of their clinic
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/tasks?due_from=soon")), "due_from");
}

TEST_F(CrmE2eTest, TheWorkerCreatesFollowUpsAndRaisesDueTasks) {
  // A new lead with an owner: a follow-up for the owner; without one: for the clinic's secretariat.
  const std::string owned = CreateLead("salesperson", NewLead("follow.owned@a.test"))["id"];
  const std::string unowned = CreateLead("admin", NewLead("follow.unowned@a.test"))["id"];
  EXPECT_TRUE(WaitFor([&] { return TasksOf(owned, ids_["salesperson"]) == 1; }, kWorkerBound)) << worker_->Output();
  EXPECT_TRUE(WaitFor([&] { return TasksOf(unowned, ids_["secretariat"]) == 1; }, kWorkerBound));
  // The task lands on the lead's timeline (task.created), then its due time raises task.due there.
  EXPECT_TRUE(WaitFor([&] { return TimelineHas(owned, "task"); }, kWorkerBound));
  const std::string task_id = [&] {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec("SELECT id::text FROM t_crm_a.tasks WHERE lead_id = '" + owned + "'")[0][0].as<std::string>();
  }();
  auto moved = As("salesperson", "PATCH", "/v1/tasks/" + task_id, {{"due_at", "2020-01-01T00:00:00Z"}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_TRUE(WaitFor([&] { return TimelineHas(owned, "task_due"); }, kWorkerBound)) << worker_->Output();
  EXPECT_EQ(Count("SELECT count(*) FROM t_crm_a.lead_activities WHERE kind = 'task_due' AND lead_id = '" + owned + "'"),
            1);

  // A lead quiet for crm.stale_after_hours gets one more follow-up when the hourly scan runs.
  Exec("UPDATE t_crm_a.leads SET last_activity_at = now() - interval '49 hours' WHERE id = '" + owned + "'");
  Exec("UPDATE queue.schedules SET next_fire_at = now() WHERE name = 'crm.flag-quiet-leads'");
  EXPECT_TRUE(WaitFor([&] { return TasksOf(owned, ids_["salesperson"]) == 2; }, kWorkerBound)) << worker_->Output();
  // Once per quiet spell: the next scan finds it flagged.
  EXPECT_EQ(
      Count("SELECT count(*) FROM t_crm_a.leads WHERE id = '" + owned + "' AND stale_flagged_for = last_activity_at"),
      1);
}

TEST_F(CrmE2eTest, ABookingEventMovesALeadBeingWorked) {
  const std::string lead = CreateLead("admin", NewLead("booked.event@a.test"))["id"];
  ASSERT_EQ(As("admin", "PATCH", "/v1/crm/leads/" + lead, {{"status", "contacted"}}).status, 200);
  // The booking module's event, enqueued as it will: a fan-out job of the tenant.
  Exec(
      "INSERT INTO queue.jobs (tenant_id, kind, payload, idempotency_key) SELECT id, 'events.fan-out', "
      "jsonb_build_object('id', gen_random_uuid(), 'name', 'appointment.booked', 'occurred_at', now()::text, "
      "'payload', jsonb_build_object('lead_id', '" +
      lead +
      "', 'appointment_id', gen_random_uuid())), "
      "gen_random_uuid()::text FROM platform.tenants WHERE slug = 'crm-a'");
  EXPECT_TRUE(
      WaitFor([&] { return Body(As("admin", "GET", "/v1/crm/leads/" + lead))["status"] == "booked"; }, kWorkerBound))
      << worker_->Output();
  EXPECT_TRUE(TimelineHas(lead, "booking"));
}

}  // namespace
}  // namespace clinicore
