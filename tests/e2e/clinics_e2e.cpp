// The clinics & catalogue module over HTTP against the real binary: every route, the bad
// input the issue names (each a 400 naming its field), the per-clinic row scope, soft delete
// and restore, Idempotency-Key, list pagination with opaque cursors, and the audit rows and
// domain events each change writes in its own transaction.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/harness/api_server.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore {
namespace {

using nlohmann::json;
using testing::ApiServer;
using testing::FirstErrorField;
using testing::HttpReply;

const json kWeekdays = {{"mon", {{{"open", "09:00"}, {"close", "13:00"}}, {{"open", "14:00"}, {"close", "18:00"}}}},
                        {"tue", {{{"open", "09:00"}, {"close", "18:00"}}}},
                        {"wed", {{{"open", "09:00"}, {"close", "18:00"}}}},
                        {"thu", {{{"open", "09:00"}, {"close", "18:00"}}}},
                        {"fri", {{{"open", "09:00"}, {"close", "18:00"}}}},
                        {"sat", json::array()},
                        {"sun", json::array()}};

json NewClinic(const std::string& name) {
  return {{"name", name},
          {"address", "1 Main St"},
          {"phone", "+302101234567"},
          {"email", "desk@a.test"},
          {"time_zone", "Europe/Athens"},
          {"currency", "EUR"},
          {"opening_hours", kWeekdays}};
}

json Body(const HttpReply& reply) {
  return json::parse(reply.body, nullptr, false);
}

class ClinicsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ApiServer(std::map<std::string, std::string>{{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "100000"}});
    server_->CreateTenant("cl-a");
    server_->CreateTenant("cl-b");
    for (const std::string role : {"admin", "clinic_owner", "doctor", "secretariat", "salesperson", "client"}) {
      ids_[role] = server_->EnsureUser("cl-a", role + "@cl-a.test", role);
      bearers_[role] = ApiServer::Bearer(server_->Login("cl-a", role + "@cl-a.test"));
    }
    ids_["owner2"] = server_->EnsureUser("cl-a", "owner2@cl-a.test", "clinic_owner");
    bearers_["owner2"] = ApiServer::Bearer(server_->Login("cl-a", "owner2@cl-a.test"));
    ids_["doctor2"] = server_->EnsureUser("cl-a", "doctor2@cl-a.test", "doctor");
    bearers_["doctor2"] = ApiServer::Bearer(server_->Login("cl-a", "doctor2@cl-a.test"));
  }
  static void TearDownTestSuite() { delete server_; }

  static HttpReply As(const std::string& who, const std::string& method, const std::string& path,
                      const json& body = nullptr) {
    return server_->TenantCall("cl-a", method, path, body, bearers_.at(who));
  }
  // A clinic of the clinic owner `owner`; returns its id.
  static std::string CreateClinic(const std::string& owner, const std::string& name) {
    auto reply = As(owner, "POST", "/v1/clinics", NewClinic(name));
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Body(reply).value("id", "");
  }
  static std::string CreateService(const std::string& clinic, const std::string& name, bool active = true) {
    auto reply = As("admin", "POST", "/v1/clinics/" + clinic + "/services",
                    {{"name", name}, {"duration_minutes", 30}, {"price_minor", 5000}, {"active", active}});
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Body(reply).value("id", "");
  }
  static long long Count(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec(sql)[0][0].as<long long>();
  }

  static ApiServer* server_;
  static std::map<std::string, std::string> ids_;
  static std::map<std::string, std::string> bearers_;
};
ApiServer* ClinicsE2eTest::server_ = nullptr;
std::map<std::string, std::string> ClinicsE2eTest::ids_;
std::map<std::string, std::string> ClinicsE2eTest::bearers_;

TEST_F(ClinicsE2eTest, AClinicOwnerCreatesReadsUpdatesAndDeletesTheirClinic) {
  auto created = As("clinic_owner", "POST", "/v1/clinics", NewClinic("Glow Kifisia"));
  ASSERT_EQ(created.status, 201) << created.body;
  const json clinic = Body(created);
  const std::string id = clinic["id"];
  EXPECT_EQ(created.Header("location").value_or(""), "/v1/clinics/" + id);
  EXPECT_EQ(clinic["owner_id"], ids_["clinic_owner"]);
  EXPECT_EQ(clinic["opening_hours"]["mon"][1]["open"], "14:00");
  EXPECT_EQ(clinic["opening_hours"]["sun"], json::array());

  auto read = As("clinic_owner", "GET", "/v1/clinics/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Body(read)["name"], "Glow Kifisia");

  auto patched = As("clinic_owner", "PATCH", "/v1/clinics/" + id, {{"name", "Glow Kifisia 2"}, {"phone", nullptr}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Body(patched)["name"], "Glow Kifisia 2");
  EXPECT_TRUE(Body(patched)["phone"].is_null());
  EXPECT_EQ(As("clinic_owner", "PATCH", "/v1/clinics/" + id, {{"owner_id", ids_["owner2"]}}).status, 403);

  // One audit row per change, with the diff, in the change's transaction; one event each.
  EXPECT_EQ(Count("SELECT count(*) FROM t_cl_a.audit_log WHERE entity = 'clinic' AND entity_id = '" + id + "'"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM t_cl_a.audit_log WHERE action = 'clinic.updated' AND entity_id = '" + id +
                  "' AND details->'changed'->'name'->>'to' = 'Glow Kifisia 2' AND actor_role = 'clinic_owner'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
                  "'clinic.created' AND payload->'payload'->>'clinic_id' = '" +
                  id + "'"),
            1);

  ASSERT_EQ(As("clinic_owner", "DELETE", "/v1/clinics/" + id).status, 204);
  EXPECT_EQ(As("clinic_owner", "GET", "/v1/clinics/" + id).status, 404);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/" + id).status, 404);
  EXPECT_EQ(As("clinic_owner", "POST", "/v1/clinics/" + id + "/restore").status, 403);
  auto restored = As("admin", "POST", "/v1/clinics/" + id + "/restore");
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(As("clinic_owner", "GET", "/v1/clinics/" + id).status, 200);
  EXPECT_EQ(As("admin", "POST", "/v1/clinics/" + id + "/restore").status, 404);  // not deleted now
}

TEST_F(ClinicsE2eTest, BadClinicInputIsA400NamingThePart) {
  auto refused = [](json body, const std::string& field) {
    auto reply = As("admin", "POST", "/v1/clinics", body);
    EXPECT_EQ(reply.status, 400) << field << ": " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), field) << reply.body;
    EXPECT_EQ(reply.Header("content-type").value_or(""), "application/problem+json");
  };
  auto with = [](const std::string& key, json value) {
    json body = NewClinic("Bad");
    body[key] = std::move(value);
    return body;
  };
  refused(with("time_zone", "Mars/Olympus"), "time_zone");
  refused(with("currency", "EUX"), "currency");
  refused(with("currency", "eur"), "currency");
  refused(with("phone", "2101234567"), "phone");
  refused(with("name", ""), "name");
  refused(with("opening_hours", {{"mon", {{{"open", "13:00"}, {"close", "09:00"}}}}}), "opening_hours.mon");
  refused(with("opening_hours",
               {{"tue", {{{"open", "09:00"}, {"close", "13:00"}}, {{"open", "12:00"}, {"close", "14:00"}}}}}),
          "opening_hours.tue");
  refused(with("opening_hours", {{"someday", json::array()}}), "opening_hours.someday");
  refused(with("owner_id", ids_["doctor"]), "owner_id");  // not a clinic owner
  refused(with("owner_id", "not-a-uuid"), "owner_id");
  refused(with("colour", "red"), "colour");
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/not-a-uuid").status, 400);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics?cursor=forged").status, 400);
}

TEST_F(ClinicsE2eTest, TheCatalogueListsPagesAndHidesWhatClientsMustNotSee) {
  const std::string clinic = CreateClinic("clinic_owner", "Catalogue Clinic");
  const std::string botox = CreateService(clinic, "Botox");
  const std::string filler = CreateService(clinic, "Filler");
  const std::string hidden = CreateService(clinic, "Laser (soon)", /*active=*/false);

  auto first = As("admin", "GET", "/v1/clinics/" + clinic + "/services?limit=2");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(Body(first)["items"].size(), 2u);
  EXPECT_EQ(Body(first)["items"][0]["id"], botox);
  const std::string cursor = Body(first)["next_cursor"];
  auto second = As("admin", "GET", "/v1/clinics/" + clinic + "/services?limit=2&cursor=" + cursor);
  ASSERT_EQ(second.status, 200) << second.body;
  ASSERT_EQ(Body(second)["items"].size(), 1u);
  EXPECT_EQ(Body(second)["items"][0]["id"], hidden);
  EXPECT_TRUE(Body(second)["next_cursor"].is_null());
  // A cursor of another list, or a tampered one, is refused before any SQL.
  auto foreign = As("admin", "GET", "/v1/clinics?cursor=" + cursor);
  EXPECT_EQ(foreign.status, 400);
  EXPECT_EQ(FirstErrorField(foreign), "cursor");
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/" + clinic + "/services?cursor=" + cursor + "x").status, 400);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/" + clinic + "/services?limit=0").status, 400);
  // Filters are declared per list; anything else is a 400 naming the parameter.
  auto inactive = As("admin", "GET", "/v1/clinics/" + clinic + "/services?active=false");
  ASSERT_EQ(inactive.status, 200) << inactive.body;
  ASSERT_EQ(Body(inactive)["items"].size(), 1u);
  EXPECT_EQ(Body(inactive)["items"][0]["id"], hidden);
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/clinics/" + clinic + "/services?colour=red")), "colour");
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/clinics/" + clinic + "/services?active=maybe")), "active");
  // A cursor minted under one filter is not one of another.
  auto filtered = As("admin", "GET", "/v1/clinics/" + clinic + "/services?active=true&limit=1");
  const std::string filtered_cursor = Body(filtered)["next_cursor"];
  EXPECT_EQ(
      As("admin", "GET", "/v1/clinics/" + clinic + "/services?active=true&limit=1&cursor=" + filtered_cursor).status,
      200);
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/clinics/" + clinic + "/services?cursor=" + filtered_cursor)),
            "cursor");
  auto by_name = As("admin", "GET", "/v1/clinics?q=atalogue%20Cl");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  bool found = false;
  const json named = Body(by_name);
  for (const auto& item : named["items"]) found = found || item["id"] == clinic;
  EXPECT_TRUE(found) << by_name.body;
  EXPECT_EQ(Body(As("admin", "GET", "/v1/clinics?q=no%25such_clinic"))["items"].size(), 0u);

  auto client_view = As("client", "GET", "/v1/clinics/" + clinic + "/services");
  ASSERT_EQ(client_view.status, 200) << client_view.body;
  EXPECT_EQ(Body(client_view)["items"].size(), 2u);  // the inactive service is hidden

  // A change shows at once (the catalogue cache forgets it on commit and on NOTIFY).
  ASSERT_EQ(As("clinic_owner", "PATCH", "/v1/services/" + filler, {{"price_minor", 7000}, {"active", false}}).status,
            200);
  auto after_patch = As("client", "GET", "/v1/clinics/" + clinic + "/services");
  EXPECT_EQ(Body(after_patch)["items"].size(), 1u) << after_patch.body;
  ASSERT_EQ(As("clinic_owner", "DELETE", "/v1/services/" + botox).status, 204);
  EXPECT_EQ(Body(As("client", "GET", "/v1/clinics/" + clinic + "/services"))["items"].size(), 0u);
  EXPECT_EQ(As("clinic_owner", "DELETE", "/v1/services/" + botox).status, 404);

  // A change made outside the API (an operator's SQL) reaches the cache through PostgreSQL's
  // notice: the next reads show it without any restart.
  const std::string peel = CreateService(clinic, "Peel");
  ASSERT_EQ(Body(As("client", "GET", "/v1/clinics/" + clinic + "/services"))["items"][0]["price_minor"], 5000);
  {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    tx.exec("UPDATE t_cl_a.services SET price_minor = 4200 WHERE id = " + tx.quote(peel));
  }
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Body(As("client", "GET", "/v1/clinics/" + clinic + "/services"))["items"][0]["price_minor"] == 4200;
      },
      std::chrono::seconds(20)));

  // An inactive clinic is gone for clients, not for staff.
  ASSERT_EQ(As("admin", "PATCH", "/v1/clinics/" + clinic, {{"active", false}}).status, 200);
  EXPECT_EQ(As("client", "GET", "/v1/clinics/" + clinic + "/services").status, 404);
  EXPECT_EQ(As("client", "GET", "/v1/clinics/" + clinic).status, 404);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/" + clinic + "/services").status, 200);
}

TEST_F(ClinicsE2eTest, BadServiceInputIsA400NamingTheField) {
  const std::string clinic = CreateClinic("clinic_owner", "Service Rules");
  const json good = {{"name", "Peel"}, {"duration_minutes", 45}, {"price_minor", 9000}};
  auto refused = [&](const std::string& key, json value) {
    json body = good;
    body[key] = std::move(value);
    auto reply = As("admin", "POST", "/v1/clinics/" + clinic + "/services", body);
    EXPECT_EQ(reply.status, 400) << key << ": " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), key) << reply.body;
  };
  refused("price_minor", -1);
  refused("price_minor", 10.5);
  refused("duration_minutes", 0);
  refused("duration_minutes", "30");
  refused("buffer_before_minutes", -5);
  refused("currency", "ABC");
  refused("resource_kinds", {"room", "room"});
  refused("resource_kinds", {"spaceship"});
  auto created = As("admin", "POST", "/v1/clinics/" + clinic + "/services",
                    {{"name", "Peel"},
                     {"duration_minutes", 45},
                     {"buffer_after_minutes", 10},
                     {"price_minor", 9000},
                     {"resource_kinds", {"room", "device"}}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["currency"], "EUR");  // the clinic's
  EXPECT_EQ(Body(created)["resource_kinds"], json({"room", "device"}));
  EXPECT_EQ(As("admin", "PATCH", "/v1/services/" + Body(created)["id"].get<std::string>(), json::object()).status, 400);
  EXPECT_EQ(As("admin", "PATCH", "/v1/services/nope", {{"name", "x"}}).status, 400);
}

TEST_F(ClinicsE2eTest, PractitionersAreDoctorsWorkingWithinTheClinicsHours) {
  const std::string clinic = CreateClinic("clinic_owner", "Practice");
  const std::string service = CreateService(clinic, "Consultation");
  const std::string elsewhere = CreateService(CreateClinic("owner2", "Elsewhere"), "Other");
  const std::string path = "/v1/clinics/" + clinic + "/practitioners";
  auto refused = [&](const json& body, const std::string& field) {
    auto reply = As("clinic_owner", "POST", path, body);
    EXPECT_EQ(reply.status, 400) << field << ": " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), field) << reply.body;
  };
  refused({{"user_id", ids_["secretariat"]}, {"service_ids", {service}}}, "user_id");
  refused({{"user_id", ids_["doctor"]}, {"service_ids", {elsewhere}}}, "service_ids");
  refused({{"user_id", ids_["doctor"]}, {"service_ids", {"nope"}}}, "service_ids[0]");
  refused({{"user_id", ids_["doctor"]},
           {"service_ids", {service}},
           {"working_hours", {{"mon", {{{"open", "12:00"}, {"close", "15:00"}}}}}}},
          "working_hours.mon");
  refused({{"user_id", ids_["doctor"]},
           {"service_ids", {service}},
           {"working_hours", {{"sat", {{{"open", "10:00"}, {"close", "11:00"}}}}}}},
          "working_hours.sat");

  auto added = As("clinic_owner", "POST", path, {{"user_id", ids_["doctor"]}, {"service_ids", {service}}});
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(Body(added)["working_hours"], kWeekdays);  // the clinic's hours by default
  EXPECT_EQ(As("clinic_owner", "POST", path, {{"user_id", ids_["doctor"]}, {"service_ids", json::array()}}).status,
            409);
  auto listed = As("doctor", "GET", path);  // a practitioner belongs to the clinic's staff
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(Body(listed)["items"].size(), 1u);
  EXPECT_EQ(Body(listed)["items"][0]["service_ids"], json({service}));

  const std::string time_off = path + "/" + ids_["doctor"] + "/time-off";
  auto own = As("doctor", "POST", time_off,
                {{"start", "2027-01-04T09:00:00+02:00"}, {"end", "2027-01-04T13:00:00+02:00"}, {"reason", "Dentist"}});
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(Body(own)["start"], "2027-01-04T07:00:00.000Z");
  auto inverted =
      As("secretariat", "POST", time_off, {{"start", "2027-01-04T13:00:00Z"}, {"end", "2027-01-04T09:00:00Z"}});
  EXPECT_EQ(inverted.status, 404) << inverted.body;  // the secretariat is not staff of this clinic
  auto bad = As("clinic_owner", "POST", time_off, {{"start", "2027-01-04T13:00:00Z"}, {"end", "2027-01-04T09:00:00Z"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(FirstErrorField(bad), "end");
  EXPECT_EQ(As("clinic_owner", "POST", time_off, {{"start", "tomorrow"}, {"end", "2027-01-04T09:00:00Z"}}).status, 400);
  // Another doctor's time off is not theirs to file.
  EXPECT_EQ(
      As("doctor2", "POST", time_off, {{"start", "2027-01-05T09:00:00Z"}, {"end", "2027-01-05T10:00:00Z"}}).status,
      403);
}

TEST_F(ClinicsE2eTest, ClosuresAndResources) {
  const std::string clinic = CreateClinic("clinic_owner", "Rooms");
  const std::string closures = "/v1/clinics/" + clinic + "/closures";
  auto closed = As("clinic_owner", "POST", closures,
                   {{"start_date", "2026-12-24"}, {"end_date", "2026-12-26"}, {"reason", "Holidays"}});
  ASSERT_EQ(closed.status, 201) << closed.body;
  auto inverted = As("clinic_owner", "POST", closures, {{"start_date", "2026-12-26"}, {"end_date", "2026-12-24"}});
  EXPECT_EQ(FirstErrorField(inverted), "end_date");
  EXPECT_EQ(
      FirstErrorField(As("clinic_owner", "POST", closures, {{"start_date", "2026-02-30"}, {"end_date", "2026-03-01"}})),
      "start_date");
  auto listed = As("admin", "GET", closures);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(Body(listed)["items"][0]["reason"], "Holidays");

  const std::string resources = "/v1/clinics/" + clinic + "/resources";
  EXPECT_EQ(FirstErrorField(As("clinic_owner", "POST", resources, {{"name", "Laser"}, {"kind", "robot"}})), "kind");
  ASSERT_EQ(As("clinic_owner", "POST", resources, {{"name", "Room 1"}, {"kind", "room"}}).status, 201);
  ASSERT_EQ(As("clinic_owner", "POST", resources, {{"name", "Laser"}, {"kind", "device"}}).status, 201);
  auto rooms = As("admin", "GET", resources);
  ASSERT_EQ(rooms.status, 200);
  EXPECT_EQ(Body(rooms)["items"].size(), 2u);
  EXPECT_EQ(Body(rooms)["items"][0]["name"], "Laser");
}

TEST_F(ClinicsE2eTest, StaffSeeOnlyTheirClinicsAndOwnersOnlyTheirOwn) {
  const std::string mine = CreateClinic("clinic_owner", "Scope Mine");
  const std::string theirs = CreateClinic("owner2", "Scope Theirs");
  // Another owner's clinic does not exist for them; admins see both.
  EXPECT_EQ(As("owner2", "GET", "/v1/clinics/" + mine).status, 404);
  EXPECT_EQ(As("owner2", "PATCH", "/v1/clinics/" + mine, {{"name", "Mine now"}}).status, 404);
  EXPECT_EQ(As("owner2", "POST", "/v1/clinics/" + mine + "/services",
               {{"name", "x"}, {"duration_minutes", 5}, {"price_minor", 1}})
                .status,
            404);
  const std::string service = CreateService(mine, "Mine only");
  EXPECT_EQ(As("owner2", "PATCH", "/v1/services/" + service, {{"name", "stolen"}}).status, 404);
  EXPECT_EQ(As("admin", "GET", "/v1/clinics/" + theirs).status, 200);

  // A salesperson sees nothing until they belong to a clinic, then only that clinic.
  auto ids_in = [](const HttpReply& reply) {
    std::set<std::string> ids;
    const json body = Body(reply);
    for (const auto& clinic : body["items"]) ids.insert(clinic["id"].get<std::string>());
    return ids;
  };
  EXPECT_EQ(As("salesperson", "GET", "/v1/clinics/" + theirs).status, 404);
  const std::string staff = "/v1/clinics/" + theirs + "/staff/" + ids_["salesperson"];
  EXPECT_EQ(As("clinic_owner", "POST", staff).status, 404);  // not their clinic to staff
  auto joined = As("owner2", "POST", staff);
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(As("owner2", "POST", staff).status, 200);  // already there
  EXPECT_EQ(As("salesperson", "GET", "/v1/clinics/" + theirs).status, 200);
  auto listed = As("salesperson", "GET", "/v1/clinics?limit=100");
  auto seen = ids_in(listed);
  EXPECT_TRUE(seen.count(theirs) == 1 && seen.count(mine) == 0) << listed.body;
  auto members = As("salesperson", "GET", "/v1/clinics/" + theirs + "/staff");
  ASSERT_EQ(members.status, 200);
  EXPECT_EQ(Body(members)["items"][0]["role"], "salesperson");
  EXPECT_EQ(FirstErrorField(As("owner2", "POST", "/v1/clinics/" + theirs + "/staff/" + ids_["client"])), "user_id");
  ASSERT_EQ(As("owner2", "DELETE", staff).status, 204);
  EXPECT_EQ(As("owner2", "DELETE", staff).status, 404);
  EXPECT_EQ(As("salesperson", "GET", "/v1/clinics/" + theirs).status, 404);
  EXPECT_EQ(As("owner2", "GET", "/v1/clinics/" + theirs + "/staff/not-a-uuid").status, 405);
  EXPECT_EQ(As("owner2", "POST", "/v1/clinics/" + theirs + "/staff/not-a-uuid").status, 400);

  // Clients see active clinics; tenant B sees none of tenant A's.
  EXPECT_EQ(As("client", "GET", "/v1/clinics/" + theirs).status, 200);
  server_->CreateTenant("cl-c");
  server_->EnsureUser("cl-c", "admin@cl-c.test", "admin");
  auto other_tenant = server_->TenantCall("cl-c", "GET", "/v1/clinics/" + theirs, nullptr,
                                          ApiServer::Bearer(server_->Login("cl-c", "admin@cl-c.test")));
  EXPECT_EQ(other_tenant.status, 404);
}

TEST_F(ClinicsE2eTest, IdempotencyKeyReplaysTheFirstAnswer) {
  const json body = NewClinic("Idempotent Clinic");
  auto post = [&](const json& b, const std::string& key) {
    return server_->Call("POST", "/v1/clinics", b,
                         {"X-Tenant: cl-a", "Authorization: " + bearers_["admin"], "Idempotency-Key: " + key});
  };
  auto first = post(body, "clinic-key-1");
  ASSERT_EQ(first.status, 201) << first.body << server_->server().Output();
  auto again = post(body, "clinic-key-1");
  ASSERT_EQ(again.status, 201) << again.body << server_->server().Output();
  EXPECT_EQ(Body(again)["id"], Body(first)["id"]);
  EXPECT_EQ(again.Header("location"), first.Header("location"));
  EXPECT_EQ(again.Header("idempotent-replayed").value_or(""), "true");
  EXPECT_EQ(Count("SELECT count(*) FROM t_cl_a.clinics WHERE name = 'Idempotent Clinic'"), 1);
  auto other = post(NewClinic("Another body"), "clinic-key-1");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(FirstErrorField(other), "Idempotency-Key");
  EXPECT_EQ(FirstErrorField(post(body, std::string(300, 'k'))), "Idempotency-Key");
  // A refusal keeps nothing: the same key works once the body is right.
  json bad = body;
  bad["currency"] = "XXX";
  EXPECT_EQ(post(bad, "clinic-key-2").status, 400);
  EXPECT_EQ(post(NewClinic("Fixed"), "clinic-key-2").status, 201);
}

}  // namespace
}  // namespace clinicore
