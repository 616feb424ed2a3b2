// The booking module over HTTP against the real binaries (`serve` and `work`): availability in
// the clinic's time, holds that block others until they expire (and nobody after, with no
// sweeper), bookings from a hold or by staff, 200 concurrent requests for overlapping times
// with exactly one success per conflicting set, reschedule and cancel freeing the old time,
// the state machine, reminders planned, re-planned and dropped, and the lead of a client moving
// to booked.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
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
constexpr const char* kZone = "Europe/Athens";

json Body(const HttpReply& reply) {
  return json::parse(reply.body, nullptr, false);
}

// A local day of the clinic, `days_ahead` from today (well inside the booking horizon).
date::year_month_day LocalDayAhead(int days_ahead) {
  const auto today = std::chrono::floor<date::days>(std::chrono::system_clock::now());
  return date::year_month_day{today + date::days{days_ahead}};
}
std::string DayText(date::year_month_day day) {
  return date::format("%F", date::sys_days{day});
}
// The UTC instant of a local wall-clock time ("10:30") of the clinic on `day`.
std::string LocalAt(date::year_month_day day, int hour, int minute = 0) {
  const auto local = date::local_days{day} + std::chrono::hours{hour} + std::chrono::minutes{minute};
  const auto utc = date::make_zoned(kZone, local).get_sys_time();
  return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(utc));
}

class BookingE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ApiServer(std::map<std::string, std::string>{{"CLINICORE_RATE_LOGIN_PER_IP_PER_MINUTE", "100000"},
                                                               {"CLINICORE_TENANT_REQUESTS_PER_MINUTE", "1000000"}});
    server_->CreateTenant("book-a");
    server_->CreateTenant("book-b");
    for (const std::string who : {"admin", "clinic_owner", "secretariat", "salesperson", "doctor", "client"}) {
      AddUser(who, who);
    }
    for (const std::string who : {"doctor2", "doctor3", "doctor4"}) AddUser(who, "doctor");
    AddUser("client2", "client");
    AddUser("client3", "client");

    auto clinic = As("clinic_owner", "POST", "/v1/clinics",
                     {{"name", "Glow Athens"},
                      {"time_zone", kZone},
                      {"currency", "EUR"},
                      {"opening_hours", EveryDay("09:00", "17:00")}});
    ASSERT_EQ(clinic.status, 201) << clinic.body;
    clinic_ = Body(clinic)["id"];
    consult_ = Service("Consultation", 30, 0, json::array());
    laser_ = Service("Laser", 60, 15, json::array({"room"}));
    for (const std::string room : {"Room 1", "Room 2"}) {
      auto reply = As("admin", "POST", "/v1/clinics/" + clinic_ + "/resources", {{"name", room}, {"kind", "room"}});
      ASSERT_EQ(reply.status, 201) << reply.body;
    }
    for (const std::string who : {"doctor", "doctor2", "doctor3", "doctor4"}) {
      auto reply = As("admin", "POST", "/v1/clinics/" + clinic_ + "/practitioners",
                      {{"user_id", ids_[who]}, {"service_ids", {consult_, laser_}}});
      ASSERT_EQ(reply.status, 201) << reply.body;
    }
    for (const std::string who : {"secretariat", "salesperson"}) {
      ASSERT_EQ(As("admin", "POST", "/v1/clinics/" + clinic_ + "/staff/" + ids_[who]).status, 201);
    }

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

  static json EveryDay(const std::string& open, const std::string& close) {
    json hours = json::object();
    for (const char* day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
      hours[day] = {{{"open", open}, {"close", close}}};
    }
    return hours;
  }
  static std::string Service(const std::string& name, int minutes, int buffer_after, const json& kinds) {
    auto reply = As("admin", "POST", "/v1/clinics/" + clinic_ + "/services",
                    {{"name", name},
                     {"duration_minutes", minutes},
                     {"buffer_after_minutes", buffer_after},
                     {"price_minor", 5000},
                     {"resource_kinds", kinds}});
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Body(reply).value("id", "");
  }
  static void AddUser(const std::string& who, const std::string& role) {
    ids_[who] = server_->EnsureUser("book-a", who + "@book-a.test", role);
    bearers_[who] = ApiServer::Bearer(server_->Login("book-a", who + "@book-a.test"));
  }
  static HttpReply As(const std::string& who, const std::string& method, const std::string& path,
                      const json& body = nullptr) {
    return server_->TenantCall("book-a", method, path, body, bearers_.at(who));
  }
  static json Time(const std::string& service, const std::string& doctor, const std::string& start) {
    return {{"clinic_id", clinic_}, {"service_id", service}, {"practitioner_id", ids_.at(doctor)}, {"start", start}};
  }
  static HttpReply Hold(const std::string& who, const json& time) {
    return As(who, "POST", "/v1/appointments/hold", time);
  }
  static HttpReply BookFor(const std::string& staff, const std::string& client, json time) {
    time["client_id"] = ids_.at(client);
    return As(staff, "POST", "/v1/appointments", time);
  }
  static json Slots(const std::string& service, date::year_month_day day, const std::string& doctor = "") {
    std::string path = "/v1/availability?clinic_id=" + clinic_ + "&service_id=" + service + "&from=" + DayText(day) +
                       "&to=" + DayText(day);
    if (!doctor.empty()) path += "&practitioner_id=" + ids_.at(doctor);
    auto reply = As("client", "GET", path);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Body(reply)["slots"];
  }
  static bool Offered(const json& slots, const std::string& start) {
    return std::any_of(slots.begin(), slots.end(), [&](const json& s) { return s["start"] == start; });
  }
  static long long Count(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec(sql)[0][0].as<long long>();
  }
  static std::string Text(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    return tx.exec(sql)[0][0].c_str();
  }
  static void Exec(const std::string& sql) {
    pqxx::connection connection(server_->database_url());
    pqxx::nontransaction tx(connection);
    tx.exec(sql);
  }

  static ApiServer* server_;
  static ServerProcess* worker_;
  static std::map<std::string, std::string> ids_;
  static std::map<std::string, std::string> bearers_;
  static std::string clinic_, consult_, laser_;
};
ApiServer* BookingE2eTest::server_ = nullptr;
ServerProcess* BookingE2eTest::worker_ = nullptr;
std::map<std::string, std::string> BookingE2eTest::ids_;
std::map<std::string, std::string> BookingE2eTest::bearers_;
std::string BookingE2eTest::clinic_, BookingE2eTest::consult_, BookingE2eTest::laser_;

TEST_F(BookingE2eTest, AvailabilityIsTheClinicsDayOnItsGrid) {
  const auto day = LocalDayAhead(10);
  const json slots = Slots(laser_, day, "doctor");
  // 09:00 to 16:00 local every 15 minutes (a 60-minute service ends by 17:00).
  ASSERT_EQ(slots.size(), 29u) << slots.dump();
  EXPECT_EQ(slots[0]["start"], LocalAt(day, 9));
  EXPECT_EQ(slots[0]["end"], LocalAt(day, 10));
  EXPECT_EQ(slots[0]["local_start"].get<std::string>().substr(0, 19), DayText(day) + "T09:00:00");
  EXPECT_EQ(slots[0]["practitioner_id"], ids_["doctor"]);
  EXPECT_EQ(slots[0]["resource_ids"].size(), 1u);  // one room
  EXPECT_EQ(slots.back()["start"], LocalAt(day, 16));
  // Every practitioner who performs it, ordered by start.
  const json all = Slots(consult_, day);
  EXPECT_EQ(all.size(), 4u * 31u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LE(all[i - 1]["start"], all[i]["start"]);
  EXPECT_TRUE(all[0]["resource_ids"].empty());
  // Staff of another tenant cannot see this clinic at all.
  auto foreign = server_->TenantCall("book-b", "GET",
                                     "/v1/availability?clinic_id=" + clinic_ + "&service_id=" + consult_ +
                                         "&from=" + DayText(day) + "&to=" + DayText(day),
                                     nullptr, ApiServer::Bearer(server_->Login("book-b", "owner@book-b.test")));
  EXPECT_EQ(foreign.status, 400) << foreign.body;
  EXPECT_EQ(FirstErrorField(foreign), "clinic_id");
  // A closure, written by the clinics module, empties the day: the kept schedule is forgotten.
  auto closure = As("admin", "POST", "/v1/clinics/" + clinic_ + "/closures",
                    {{"start_date", DayText(day)}, {"end_date", DayText(day)}, {"reason", "Holiday"}});
  ASSERT_EQ(closure.status, 201) << closure.body;
  EXPECT_TRUE(WaitFor([&] { return Slots(laser_, day, "doctor").empty(); }, kWorkerBound));
}

TEST_F(BookingE2eTest, AHoldBlocksOthersAndBecomesTheClientsAppointment) {
  const auto day = LocalDayAhead(11);
  const std::string ten = LocalAt(day, 10);
  auto held = Hold("client", Time(consult_, "doctor", ten));
  ASSERT_EQ(held.status, 201) << held.body;
  const std::string hold_id = Body(held)["id"];
  EXPECT_TRUE(Body(held)["expires_at"].is_string());
  // Gone from everyone's availability, with the slots that overlap it.
  const json slots = Slots(consult_, day, "doctor");
  EXPECT_FALSE(Offered(slots, ten));
  EXPECT_FALSE(Offered(slots, LocalAt(day, 9, 45)));
  EXPECT_TRUE(Offered(slots, LocalAt(day, 9, 30)));  // adjacent
  EXPECT_TRUE(Offered(slots, LocalAt(day, 10, 30)));
  // Anyone else's hold or booking of that time is a 409 naming the conflict.
  auto second = Hold("client2", Time(consult_, "doctor", LocalAt(day, 10, 15)));
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(FirstErrorField(second), "practitioner_id");
  EXPECT_EQ(BookFor("secretariat", "client2", Time(consult_, "doctor", ten)).status, 409);
  // Only its client (or staff) books it.
  auto stolen = As("client2", "POST", "/v1/appointments", {{"hold_id", hold_id}});
  EXPECT_EQ(stolen.status, 400) << stolen.body;
  EXPECT_EQ(FirstErrorField(stolen), "hold_id");
  auto booked = As("client", "POST", "/v1/appointments", {{"hold_id", hold_id}, {"notes", "First visit"}});
  ASSERT_EQ(booked.status, 201) << booked.body;
  const json appointment = Body(booked);
  EXPECT_EQ(appointment["status"], "booked");
  EXPECT_EQ(appointment["client_id"], ids_["client"]);
  EXPECT_EQ(appointment["start"], ten);
  EXPECT_EQ(appointment["hold_id"], hold_id);
  EXPECT_EQ(As("client", "POST", "/v1/appointments", {{"hold_id", hold_id}}).status, 409);  // used
  EXPECT_FALSE(Offered(Slots(consult_, day, "doctor"), ten));
  const std::string id = appointment["id"];
  EXPECT_EQ(As("client", "GET", "/v1/appointments/" + id).status, 200);
  EXPECT_EQ(As("client2", "GET", "/v1/appointments/" + id).status, 404);
  EXPECT_EQ(As("doctor", "GET", "/v1/appointments/" + id).status, 200);
  EXPECT_EQ(As("doctor2", "GET", "/v1/appointments/" + id).status, 404);
  EXPECT_EQ(As("secretariat", "GET", "/v1/appointments/" + id).status, 200);
  const json mine = Body(As("client", "GET", "/v1/appointments"));
  ASSERT_TRUE(mine["items"].is_array());
  for (const auto& a : mine["items"]) EXPECT_EQ(a["client_id"], ids_["client"]);
  EXPECT_EQ(server_->AuditCount("book-a", "appointment.booked"), Count("SELECT count(*) FROM t_book_a.appointments"));

  // A released hold frees its time at once.
  auto other = Hold("client2", Time(consult_, "doctor", LocalAt(day, 12)));
  ASSERT_EQ(other.status, 201) << other.body;
  EXPECT_EQ(As("client", "DELETE", "/v1/appointments/hold/" + Body(other)["id"].get<std::string>()).status, 404);
  EXPECT_EQ(As("client2", "DELETE", "/v1/appointments/hold/" + Body(other)["id"].get<std::string>()).status, 204);
  EXPECT_TRUE(Offered(Slots(consult_, day, "doctor"), LocalAt(day, 12)));
}

TEST_F(BookingE2eTest, AnExpiredHoldBlocksNobodyWithoutASweeper) {
  const auto day = LocalDayAhead(12);
  const std::string eleven = LocalAt(day, 11);
  auto held = Hold("client", Time(laser_, "doctor2", eleven));
  ASSERT_EQ(held.status, 201) << held.body;
  const std::string hold_id = Body(held)["id"];
  EXPECT_EQ(Hold("client2", Time(laser_, "doctor2", eleven)).status, 409);
  // Time passes: the hold's expiry is behind us; its claim row is still in the table.
  Exec("UPDATE t_book_a.appointment_holds SET expires_at = now() - interval '1 second' WHERE id = '" + hold_id + "'");
  Exec("UPDATE t_book_a.booking_claims SET expires_at = now() - interval '1 second' WHERE owner_id = '" + hold_id +
       "'");
  EXPECT_EQ(Count("SELECT count(*) FROM t_book_a.booking_claims WHERE owner_id = '" + hold_id + "'"), 2);
  // The change reached the table behind the server's back: its schedule cache hears of it.
  EXPECT_TRUE(WaitFor([&] { return Offered(Slots(laser_, day, "doctor2"), eleven); }, kWorkerBound));
  auto taken = Hold("client2", Time(laser_, "doctor2", eleven));
  EXPECT_EQ(taken.status, 201) << taken.body;
  auto late = As("client", "POST", "/v1/appointments", {{"hold_id", hold_id}});
  EXPECT_EQ(late.status, 409) << late.body;
  EXPECT_EQ(FirstErrorField(late), "hold_id");
}

// 200 requests at once, holds and staff bookings mixed, for overlapping times of different
// durations: exactly one success per set of mutually overlapping times, all the rest 409.
TEST_F(BookingE2eTest, ConcurrentRequestsForOverlappingTimesYieldExactlyOneSuccessEach) {
  const auto day = LocalDayAhead(13);
  struct Attempt {
    std::string service;
    std::string start;
    int set;
  };
  std::vector<Attempt> kinds;
  // Each set: four times that pairwise overlap (a laser with its 15-minute buffer, two
  // consultations, a laser a quarter earlier); sets two hours apart never touch each other.
  for (int set = 0; set < 3; ++set) {
    const int hour = 9 + 2 * set;
    kinds.push_back({consult_, LocalAt(day, hour, 30), set});
    kinds.push_back({consult_, LocalAt(day, hour, 45), set});
    kinds.push_back({laser_, LocalAt(day, hour, 30), set});
    kinds.push_back({laser_, LocalAt(day, hour, 15), set});
  }
  // Two more sets that only touch: 15:00–15:30 and 15:30–16:00 both succeed.
  kinds.push_back({consult_, LocalAt(day, 15), 3});
  kinds.push_back({consult_, LocalAt(day, 15, 30), 4});
  std::mutex mutex;
  std::map<int, int> successes;
  std::map<int, int> statuses;
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      const Attempt& attempt = kinds[static_cast<size_t>(i) % kinds.size()];
      const json time = Time(attempt.service, "doctor3", attempt.start);
      const HttpReply reply = i % 2 == 0 ? Hold(i % 4 == 0 ? "client" : "client2", time)
                                         : BookFor(i % 4 == 1 ? "secretariat" : "admin", "client3", time);
      std::lock_guard lock(mutex);
      ++statuses[reply.status];
      if (reply.status == 201) ++successes[attempt.set];
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(statuses[201] + statuses[409], 200) << "only 201 and 409 may answer";
  for (int set = 0; set < 5; ++set) EXPECT_EQ(successes[set], 1) << "set " << set;
  // And the table agrees: the doctor's claims never overlap (the constraint), one per set.
  EXPECT_EQ(Count("SELECT count(*) FROM t_book_a.booking_claims a JOIN t_book_a.booking_claims b ON a.subject_id = "
                  "b.subject_id AND a.ctid < b.ctid AND a.busy && b.busy"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM t_book_a.booking_claims WHERE subject_id = '" + ids_["doctor3"] + "'"), 5);
}

TEST_F(BookingE2eTest, RescheduleFreesTheOldTimeAndCancelFreesItsOwn) {
  const auto day = LocalDayAhead(14);
  auto booked = BookFor("secretariat", "client", Time(consult_, "doctor4", LocalAt(day, 10)));
  ASSERT_EQ(booked.status, 201) << booked.body;
  const std::string id = Body(booked)["id"];
  auto blocker = BookFor("secretariat", "client2", Time(consult_, "doctor4", LocalAt(day, 14)));
  ASSERT_EQ(blocker.status, 201) << blocker.body;

  auto moved = As("secretariat", "PATCH", "/v1/appointments/" + id + "/reschedule", {{"start", LocalAt(day, 11)}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(Body(moved)["start"], LocalAt(day, 11));
  const json slots = Slots(consult_, day, "doctor4");
  EXPECT_TRUE(Offered(slots, LocalAt(day, 10)));
  EXPECT_FALSE(Offered(slots, LocalAt(day, 11)));
  // Onto a taken time: 409, and the appointment keeps its time.
  auto clash = As("secretariat", "PATCH", "/v1/appointments/" + id + "/reschedule", {{"start", LocalAt(day, 14)}});
  EXPECT_EQ(clash.status, 409) << clash.body;
  EXPECT_EQ(Body(As("secretariat", "GET", "/v1/appointments/" + id))["start"], LocalAt(day, 11));
  EXPECT_FALSE(Offered(Slots(consult_, day, "doctor4"), LocalAt(day, 11)));
  // To another practitioner.
  auto handed = As("admin", "PATCH", "/v1/appointments/" + id + "/reschedule",
                   {{"start", LocalAt(day, 11)}, {"practitioner_id", ids_["doctor2"]}});
  ASSERT_EQ(handed.status, 200) << handed.body;
  EXPECT_EQ(Body(handed)["practitioner_id"], ids_["doctor2"]);
  EXPECT_TRUE(Offered(Slots(consult_, day, "doctor4"), LocalAt(day, 11)));

  // Two appointments raced onto one free time: one moves, the other is refused.
  auto a = BookFor("secretariat", "client", Time(consult_, "doctor4", LocalAt(day, 15)));
  auto b = BookFor("secretariat", "client2", Time(consult_, "doctor4", LocalAt(day, 15, 30)));
  ASSERT_EQ(a.status, 201);
  ASSERT_EQ(b.status, 201);
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> racers;
  for (const auto& reply : {a, b}) {
    racers.emplace_back([&, id = Body(reply)["id"].get<std::string>()] {
      auto r = As("secretariat", "PATCH", "/v1/appointments/" + id + "/reschedule", {{"start", LocalAt(day, 12)}});
      (r.status == 200 ? ok : refused)++;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 1);

  // A client cancels online only outside the window; staff always; the time is free again.
  const std::string blocker_id = Body(blocker)["id"];
  ASSERT_EQ(As("admin", "PATCH", "/v1/booking/settings", {{"cancel_window_hours", 720}}).status, 200);
  auto too_late = As("client2", "PATCH", "/v1/appointments/" + blocker_id + "/cancel", {{"reason", "ill"}});
  EXPECT_EQ(too_late.status, 409) << too_late.body;
  EXPECT_EQ(FirstErrorField(too_late), "start");
  ASSERT_EQ(As("admin", "PATCH", "/v1/booking/settings", {{"cancel_window_hours", 24}}).status, 200);
  auto cancelled = As("client2", "PATCH", "/v1/appointments/" + blocker_id + "/cancel", {{"reason", "ill"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Body(cancelled)["status"], "cancelled");
  EXPECT_EQ(Body(cancelled)["cancel_reason"], "ill");
  EXPECT_TRUE(Offered(Slots(consult_, day, "doctor4"), LocalAt(day, 14)));
  auto again = As("secretariat", "PATCH", "/v1/appointments/" + blocker_id + "/cancel", {{"reason", "x"}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(FirstErrorField(again), "status");

  // The doctor closes their own; a no-show waits for the start.
  EXPECT_EQ(
      As("doctor", "PATCH", "/v1/appointments/" + id + "/complete", {{"amount_paid_minor", 5000}, {"currency", "EUR"}})
          .status,
      404);  // doctor2's now
  auto no_show = As("doctor2", "PATCH", "/v1/appointments/" + id + "/no-show");
  EXPECT_EQ(no_show.status, 409);
  EXPECT_EQ(FirstErrorField(no_show), "start");
  auto done = As("doctor2", "PATCH", "/v1/appointments/" + id + "/complete",
                 {{"amount_paid_minor", 5000}, {"currency", "EUR"}, {"notes", "All well"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Body(done)["status"], "completed");
  EXPECT_EQ(Body(done)["amount_paid_minor"], 5000);
  EXPECT_EQ(As("secretariat", "PATCH", "/v1/appointments/" + id + "/reschedule", {{"start", LocalAt(day, 16)}}).status,
            409);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
                  "'appointment.completed' AND payload->'payload'->>'appointment_id' = '" +
                  id + "'"),
            1);
}

TEST_F(BookingE2eTest, RemindersArePlannedReplannedAndDropped) {
  ASSERT_EQ(As("admin", "PATCH", "/v1/booking/settings", {{"second_reminder_hours", 2}}).status, 200);
  const auto day = LocalDayAhead(15);
  auto kept = BookFor("secretariat", "client", Time(consult_, "doctor", LocalAt(day, 16)));
  auto dropped = BookFor("secretariat", "client2", Time(consult_, "doctor", LocalAt(day, 16, 30)));
  ASSERT_EQ(kept.status, 201) << kept.body;
  ASSERT_EQ(dropped.status, 201) << dropped.body;
  const std::string kept_id = Body(kept)["id"], dropped_id = Body(dropped)["id"];
  auto reminders = [&](const std::string& id, const std::string& extra = "") {
    return Count("SELECT count(*) FROM queue.jobs WHERE kind = 'booking.reminder' AND payload->>'appointment_id' = '" +
                 id + "'" + extra);
  };
  EXPECT_EQ(reminders(kept_id), 2);
  EXPECT_EQ(reminders(kept_id, " AND run_at = '" + LocalAt(day, 16) + "'::timestamptz - interval '24 hours'"), 1);
  // Rescheduled: planned again for the new start; cancelled: nothing new.
  ASSERT_EQ(
      As("secretariat", "PATCH", "/v1/appointments/" + kept_id + "/reschedule", {{"start", LocalAt(day, 15)}}).status,
      200);
  EXPECT_EQ(reminders(kept_id), 4);
  EXPECT_EQ(reminders(kept_id, " AND run_at = '" + LocalAt(day, 15) + "'::timestamptz - interval '2 hours'"), 1);
  ASSERT_EQ(As("secretariat", "PATCH", "/v1/appointments/" + dropped_id + "/cancel", {{"reason", "moved away"}}).status,
            200);

  // Bring every one of them due now: only the current start's two raise a reminder.
  Exec("UPDATE queue.jobs SET run_at = now() WHERE kind = 'booking.reminder' AND state = 'available'");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Count("SELECT count(*) FROM queue.jobs WHERE kind = 'booking.reminder' AND state <> 'completed'") == 0;
      },
      kWorkerBound))
      << Text(
             "SELECT string_agg(state || ' ' || attempt || ' ' || coalesce(last_error, '') || ' ' || run_at, E'\\n') "
             "FROM queue.jobs WHERE kind = 'booking.reminder'");
  auto raised = [&](const std::string& id) {
    return Count(
        "SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
        "'appointment.reminder_due' AND payload->'payload'->>'appointment_id' = '" +
        id + "' AND payload->'payload'->>'start' = '" + LocalAt(day, 15) + "'");
  };
  EXPECT_EQ(raised(kept_id), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
                  "'appointment.reminder_due' AND payload->'payload'->>'appointment_id' = '" +
                  kept_id + "'"),
            2);  // none for the start it was moved from
  EXPECT_EQ(Count("SELECT count(*) FROM queue.jobs WHERE kind = 'events.fan-out' AND payload->>'name' = "
                  "'appointment.reminder_due' AND payload->'payload'->>'appointment_id' IN ('" +
                  dropped_id + "')"),
            0);
  ASSERT_EQ(As("admin", "PATCH", "/v1/booking/settings", {{"second_reminder_hours", nullptr}}).status, 200);
}

TEST_F(BookingE2eTest, ABookingMovesTheClientsLeadToBooked) {
  auto lead = As("secretariat", "POST", "/v1/crm/leads",
                 {{"first_name", "Client"}, {"email", "client3@book-a.test"}, {"clinic_id", clinic_}});
  ASSERT_EQ(lead.status, 201) << lead.body;
  const std::string lead_id = Body(lead)["id"];
  const auto day = LocalDayAhead(16);
  ASSERT_EQ(BookFor("secretariat", "client3", Time(consult_, "doctor", LocalAt(day, 9))).status, 201);
  EXPECT_TRUE(WaitFor([&] { return Body(As("admin", "GET", "/v1/crm/leads/" + lead_id))["status"] == "booked"; },
                      kWorkerBound));
}

TEST_F(BookingE2eTest, ARecurringSeriesBooksEachOccurrenceAndRecordsItsConflicts) {
  const int first_day = 20;
  auto at = [&](int week) { return LocalAt(LocalDayAhead(first_day + 7 * week), 10); };
  auto taken = BookFor("secretariat", "client2", Time(consult_, "doctor2", at(2)));
  ASSERT_EQ(taken.status, 201) << taken.body;
  json body = Time(consult_, "doctor2", at(0));
  body["client_id"] = ids_["client"];
  body["notes"] = "Course of four";
  body["rule"] = {{"every_weeks", 1}, {"count", 4}};
  auto accepted = As("secretariat", "POST", "/v1/appointments/recurring", body);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const std::string series_id = Body(accepted)["series_id"];
  EXPECT_EQ(accepted.Header("location").value_or(""), "/v1/appointments/series/" + series_id);
  json series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = Body(As("secretariat", "GET", "/v1/appointments/series/" + series_id));
        const auto& items = series["occurrences"];
        return items.is_array() &&
               std::none_of(items.begin(), items.end(), [](const json& o) { return o["status"] == "pending"; });
      },
      kWorkerBound))
      << series.dump();
  ASSERT_EQ(series["occurrences"].size(), 4u);
  for (int week = 0; week < 4; ++week) {
    const json& occurrence = series["occurrences"][static_cast<size_t>(week)];
    EXPECT_EQ(occurrence["start"], at(week)) << "the same local time every week";
    if (week == 2) {
      EXPECT_EQ(occurrence["status"], "conflict");
      EXPECT_EQ(occurrence["conflict"]["field"], "practitioner_id");
      EXPECT_TRUE(occurrence["appointment_id"].is_null());
    } else {
      ASSERT_EQ(occurrence["status"], "booked") << occurrence.dump();
      const json appointment =
          Body(As("client", "GET", "/v1/appointments/" + occurrence["appointment_id"].get<std::string>()));
      EXPECT_EQ(appointment["series_id"], series_id);
      EXPECT_EQ(appointment["start"], at(week));
      EXPECT_EQ(appointment["notes"], "Course of four");
    }
  }
  EXPECT_EQ(As("client", "GET", "/v1/appointments/series/" + series_id).status, 200);
  EXPECT_EQ(As("client2", "GET", "/v1/appointments/series/" + series_id).status, 404);

  struct RuleCase {
    json rule;
    std::string field;
  };
  const std::vector<RuleCase> rules = {
      {nullptr, "rule"},
      {{{"every_weeks", 0}, {"count", 2}}, "rule.every_weeks"},
      {{{"every_weeks", 1}}, "rule"},
      {{{"every_weeks", 1}, {"count", 2}, {"until", DayText(LocalDayAhead(60))}}, "rule"},
      {{{"every_weeks", 1}, {"count", 53}}, "rule.count"},
      {{{"every_weeks", 1}, {"until", "soon"}}, "rule.until"},
      {{{"every_weeks", 1}, {"until", DayText(LocalDayAhead(1))}}, "rule.until"},
      {{{"every_weeks", 1}, {"until", DayText(LocalDayAhead(first_day + 7 * 60))}}, "rule.until"},
      {{{"every_weeks", 1}, {"count", 2}, {"colour", "red"}}, "rule.colour"},
  };
  for (const auto& c : rules) {
    json bad = body;
    bad["start"] = LocalAt(LocalDayAhead(first_day), 12);
    if (c.rule.is_null()) {
      bad.erase("rule");
    } else {
      bad["rule"] = c.rule;
    }
    auto reply = As("secretariat", "POST", "/v1/appointments/recurring", bad);
    EXPECT_EQ(reply.status, 400) << c.rule.dump() << " " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), c.field) << c.rule.dump();
  }
  EXPECT_EQ(As("client", "POST", "/v1/appointments/recurring", body).status, 403);
}

TEST_F(BookingE2eTest, BadInputIsA4xxNamingThePart) {
  const auto day = LocalDayAhead(17);
  const std::string base = "/v1/availability?clinic_id=" + clinic_ + "&service_id=" + consult_;
  struct QueryCase {
    std::string query;
    std::string field;
  };
  const std::vector<QueryCase> queries = {
      {base + "&from=" + DayText(day) + "&to=" + DayText(LocalDayAhead(16)), "to"},
      {base + "&from=" + DayText(day) + "&to=" + DayText(LocalDayAhead(17 + 32)), "to"},
      {"/v1/availability?service_id=" + consult_ + "&from=" + DayText(day) + "&to=" + DayText(day), "clinic_id"},
      {base + "&from=tomorrow&to=" + DayText(day), "from"},
      {base + "&from=" + DayText(day) + "&to=" + DayText(day) + "&colour=red", "colour"},
      {base + "&from=" + DayText(day) + "&to=" + DayText(day) + "&practitioner_id=" + ids_["secretariat"],
       "practitioner_id"},
      {"/v1/availability?clinic_id=" + clinic_ + "&service_id=not-a-uuid&from=" + DayText(day) + "&to=" + DayText(day),
       "service_id"},
  };
  for (const auto& c : queries) {
    auto reply = As("client", "GET", c.query);
    EXPECT_EQ(reply.status, 400) << c.query << " " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), c.field) << c.query;
    EXPECT_EQ(reply.Header("content-type").value_or(""), "application/problem+json");
  }
  EXPECT_EQ(As("client", "GET", base + "&from=" + DayText(day) + "&to=" + DayText(LocalDayAhead(17 + 31))).status, 200);

  struct HoldCase {
    json body;
    std::string field;
  };
  const std::vector<HoldCase> holds = {
      {Time(consult_, "doctor", LocalAt(day, 10, 10)), "start"},  // off the grid
      {Time(consult_, "doctor", LocalAt(day, 7)), "start"},       // before opening
      {Time(consult_, "doctor", LocalAt(day, 16, 45)), "start"},  // runs past closing
      {Time(consult_, "doctor", "2020-01-01T10:00:00Z"), "start"},
      {Time(consult_, "doctor", LocalAt(day, 10) + "x"), "start"},
      {Time(consult_, "secretariat", LocalAt(day, 10)), "practitioner_id"},
      {Time("00000000-0000-4000-8000-000000000001", "doctor", LocalAt(day, 10)), "service_id"},
      {{{"clinic_id", clinic_}}, "service_id"},
  };
  for (const auto& c : holds) {
    auto reply = Hold("client", c.body);
    EXPECT_EQ(reply.status, 400) << c.body.dump() << " " << reply.body;
    EXPECT_EQ(FirstErrorField(reply), c.field) << c.body.dump();
  }
  auto unknown = As("client", "POST", "/v1/appointments", {{"hold_id", "00000000-0000-4000-8000-000000000001"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(FirstErrorField(unknown), "hold_id");
  auto direct = As("client", "POST", "/v1/appointments", Time(consult_, "doctor", LocalAt(day, 10)));
  EXPECT_EQ(direct.status, 400);
  EXPECT_EQ(FirstErrorField(direct), "hold_id");
  auto not_client = BookFor("secretariat", "doctor", Time(consult_, "doctor", LocalAt(day, 10)));
  EXPECT_EQ(FirstErrorField(not_client), "client_id");
  EXPECT_EQ(FirstErrorField(As("admin", "PATCH", "/v1/booking/settings", {{"slot_step_minutes", 1}})),
            "slot_step_minutes");
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/appointments?status=done")), "status");
  EXPECT_EQ(FirstErrorField(As("admin", "GET", "/v1/appointments/nope")), "id");
}

}  // namespace
}  // namespace clinicore
