// Revocation against the real PostgreSQL and Redis: the races between a refresh in flight and
// a revocation (each held open at a barrier), a sign-in that loses to a password change or
// deactivation committed while its password was being verified, privileged requests that
// re-read the account, and the in-process replica of the deny-list (propagation, gaps, a lost
// subscription, Redis down).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "platform/auth/auth_service.hpp"
#include "platform/auth/revocation_list.hpp"
#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/migrations/migrations.hpp"
#include "platform/tenancy/cell_registry.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::auth {
namespace {

using Millis = std::chrono::milliseconds;
using Verdict = RevocationList::Verdict;

class RevocationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    core::log::Init("off");
    database_ = new testing::TestDatabase();
  }
  static void TearDownTestSuite() { delete database_; }

  void SetUp() override {
    core::DatabaseConfig config;
    config.url = database_->url();
    config.pool_size = 6;
    config.pool_wait = std::chrono::minutes(1);
    db_ = std::make_unique<db::Database>(config, metrics_);
    AccountStore::RegisterStatements(*db_);
    MfaStore::RegisterStatements(*db_);
    auto platform = migrations::LoadMigrationDir(testing::SourceRoot() + "/migrations/platform");
    ASSERT_TRUE(platform.ok());
    ASSERT_TRUE(migrations::MigrationRunner(*db_).Apply({"platform", ""}, *platform).ok());
    ASSERT_TRUE(tenancy::EnsureCells(*db_, database_->runtime_config()).ok());
    redis_ = std::make_shared<cache::RedisClient>(testing::TestRedisConfig(), metrics_);
  }

  // Refresh tokens unique to this test (they share one database).
  std::string T(const std::string& name) const { return token_prefix_ + name; }

  // A platform admin (the console realm needs no tenant) with the password given.
  Account Admin(const std::string& password = "") {
    static int counter = 0;
    std::optional<std::string> hash;
    if (!password.empty()) hash = hasher_->Hash(password).value();
    auto made = db_->Write([&](db::Transaction& tx) -> core::Result<Account> {
      auto account = AccountStore::Insert(
          tx, ConsoleRealm(),
          {"admin" + std::to_string(++counter) + "-" + core::NewUuid().substr(0, 8) + "@itest.test", "Admin",
           std::nullopt, "platform_admin", hash, std::nullopt, std::nullopt});
      tx.Commit();
      return account;
    });
    EXPECT_TRUE(made.ok());
    return *made;
  }

  void InsertRefresh(const std::string& token, const std::string& family, const std::string& user) {
    ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                     AccountStore::InsertRefresh(tx, ConsoleRealm(), core::Sha256(token), family, user, 3600);
                     tx.Commit();
                     return core::Ok();
                   })
                    .ok());
  }

  RefreshState State(const std::string& token) {
    auto state = db_->Read([&](db::Transaction& tx) -> core::Result<RefreshState> {
      return *AccountStore::Lookup(tx, ConsoleRealm(), core::Sha256(token));
    });
    EXPECT_TRUE(state.ok());
    return *state;
  }

  // How many backends of this database wait for a lock: the revoker is queued behind the
  // refresh when this is 1.
  // Read as the session user itself: the platform role that transactions run as sees no wait
  // events of other roles' backends.
  long long LockWaiters() {
    pqxx::connection connection(database_->url());
    pqxx::nontransaction tx(connection);
    return tx
        .exec(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")[0][0]
        .as<long long>();
  }

  // Rotates `token` into `next` in a transaction held open until the returned promise is
  // kept: a refresh between its rotate and its commit.
  struct HeldRefresh {
    std::promise<void> release;
    std::thread thread;
  };
  std::unique_ptr<HeldRefresh> HoldRefresh(const std::string& token, const std::string& next) {
    auto held = std::make_unique<HeldRefresh>();
    std::promise<void> rotated;
    auto rotated_future = rotated.get_future();
    auto release = held->release.get_future().share();
    held->thread = std::thread([this, token, next, release, rotated = std::move(rotated)]() mutable {
      bool signalled = false;
      auto done = db_->Write([&](db::Transaction& tx) -> core::Status {
        auto state = AccountStore::Rotate(tx, ConsoleRealm(), core::Sha256(token));
        EXPECT_TRUE(state.has_value());
        if (state)
          AccountStore::InsertRefresh(tx, ConsoleRealm(), core::Sha256(next), state->family_id, state->user_id, 3600);
        if (!signalled) {
          signalled = true;
          rotated.set_value();
        }
        release.wait();
        tx.Commit();
        return core::Ok();
      });
      EXPECT_TRUE(done.ok()) << (done.ok() ? "" : done.error().internal);
    });
    rotated_future.wait();
    return held;
  }

  // Runs `revoke` in a transaction of its own while `held` is open, waits until it either
  // finished or queued behind the refresh's lock, then lets the refresh commit.
  void RevokeWhileHeld(std::unique_ptr<HeldRefresh> held, std::function<void(db::Transaction&)> revoke) {
    std::atomic<bool> finished{false};
    std::thread revoker([&] {
      auto done = db_->Write([&](db::Transaction& tx) -> core::Status {
        revoke(tx);
        tx.Commit();
        return core::Ok();
      });
      EXPECT_TRUE(done.ok());
      finished = true;
    });
    EXPECT_TRUE(testing::WaitFor([&] { return finished || LockWaiters() >= 1; }, Millis(30'000)));
    held->release.set_value();
    held->thread.join();
    revoker.join();
  }

  AuthService Service() {
    auto keys = KeyRing::Parse(KeyRing::GenerateSigningKeyText(), "");
    EXPECT_TRUE(keys.ok());
    // The per-address limits of the console realm are keyed by 127.0.0.1 alone, shared with
    // every other suite signing admins in on this Redis: off here (lockouts stay on).
    core::AuthConfig config;
    config.login_per_ip_per_minute = 1'000'000;
    config.login_per_ip_global_per_minute = 1'000'000;
    auto authenticator = std::make_shared<Authenticator>(std::move(*keys), config, redis_, metrics_);
    return AuthService(*db_, authenticator, std::make_shared<cache::RateLimiter>(redis_, metrics_), hasher_);
  }

  static testing::TestDatabase* database_;
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::unique_ptr<db::Database> db_;
  std::shared_ptr<cache::RedisClient> redis_;
  // The cheapest Argon2id libsodium allows: these tests are about ordering, not cost.
  std::shared_ptr<const PasswordHasher> hasher_ = std::make_shared<PasswordHasher>(1, 8192);
  RealmContext console_{&ConsoleRealm(), std::nullopt, ""};
  std::string token_prefix_ = core::NewUuid();
};
testing::TestDatabase* RevocationTest::database_ = nullptr;

TEST_F(RevocationTest, EndingAnAccountsSessionsCatchesTheTokenARefreshInFlightInserts) {
  const Account admin = Admin();
  InsertRefresh(T("t1"), core::NewUuid(), admin.id);
  auto held = HoldRefresh(T("t1"), T("t2"));
  RevokeWhileHeld(std::move(held), [&](db::Transaction& tx) {
    (void)AccountStore::RevokeSessions(tx, ConsoleRealm(), admin.id, "password_changed");
  });
  EXPECT_TRUE(State(T("t2")).revoked) << "the token the refresh inserted must not outlive the revocation";
}

TEST_F(RevocationTest, AReusedTokenEndsTheTokenAConcurrentRefreshInserts) {
  const Account admin = Admin();
  const std::string family = core::NewUuid();
  InsertRefresh(T("t0"), family, admin.id);
  auto first = HoldRefresh(T("t0"), T("t1"));  // t0 rotated into t1 and committed...
  first->release.set_value();
  first->thread.join();
  auto held = HoldRefresh(T("t1"), T("t2"));  // ...and t1 is being rotated into t2 now
  // A copy of t0 comes back: what Refresh does with it (Rotate fails, Lookup, RevokeFamily).
  RevokeWhileHeld(std::move(held), [&](db::Transaction& tx) {
    EXPECT_FALSE(AccountStore::Rotate(tx, ConsoleRealm(), core::Sha256(T("t0"))));
    const auto state = AccountStore::Lookup(tx, ConsoleRealm(), core::Sha256(T("t0")));
    ASSERT_TRUE(state && state->rotated);
    AccountStore::RevokeFamily(tx, ConsoleRealm(), state->family_id, "reuse_detected");
  });
  EXPECT_TRUE(State(T("t2")).revoked) << "reuse detection must end the whole family, the newest token included";
}

TEST_F(RevocationTest, LogoutCatchesTheTokenARefreshInFlightInserts) {
  const Account admin = Admin();
  const std::string family = core::NewUuid();
  InsertRefresh(T("t1"), family, admin.id);
  auto held = HoldRefresh(T("t1"), T("t2"));
  RevokeWhileHeld(std::move(held),
                  [&](db::Transaction& tx) { AccountStore::RevokeFamily(tx, ConsoleRealm(), family, "logout"); });
  EXPECT_TRUE(State(T("t2")).revoked);
}

TEST_F(RevocationTest, ASignInLosesToAChangeCommittedWhileItsPasswordWasVerified) {
  AuthService service = Service();
  const std::string password = "correct horse battery staple";
  for (const std::string change : {"password", "deactivation"}) {
    const Account admin = Admin(password);
    service.SetAfterVerifyHook([&] {
      ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                       if (change == "password") {
                         AccountStore::SetPasswordHash(tx, ConsoleRealm(), admin.id, *hasher_->Hash("another one!!"));
                       } else {
                         AccountStore::Update(tx, ConsoleRealm(), admin.id,
                                              {std::nullopt, std::nullopt, std::nullopt, std::nullopt, false});
                       }
                       tx.Commit();
                       return core::Ok();
                     })
                      .ok());
    });
    auto session = service.Login(console_, admin.email, password, {"127.0.0.1", "req"});
    ASSERT_FALSE(session.ok()) << "a sign-in verified against the old row must not start a session: " << change;
    EXPECT_EQ(session.error().code, core::ErrorCode::kUnauthenticated);
    service.SetAfterVerifyHook(nullptr);
  }
  const Account untouched = Admin(password);
  EXPECT_TRUE(service.Login(console_, untouched.email, password, {"127.0.0.1", "req"}).ok());
}

TEST_F(RevocationTest, APrivilegedRequestTrustsTheDatabaseNotTheToken) {
  AuthService service = Service();
  const Account admin = Admin("correct horse battery staple");
  auto session = service.Login(console_, admin.email, "correct horse battery staple", {"127.0.0.1", "req"});
  ASSERT_TRUE(session.ok());
  auto family = db_->Read([&](db::Transaction& tx) -> core::Result<std::string> {
    return tx
        .ExecScript("SELECT family_id::text FROM platform.admin_refresh_tokens WHERE user_id = '" + admin.id +
                    "'")[0][0]
        .as<std::string>();
  });
  ASSERT_TRUE(family.ok());
  Principal principal{"console", admin.id, "platform_admin", "", "jti", *family, 0};
  EXPECT_TRUE(service.ConfirmActor(console_, principal).ok());

  // The session revoked in PostgreSQL only (Redis never heard of it): refused all the same.
  ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                   AccountStore::RevokeFamily(tx, ConsoleRealm(), *family, "test");
                   tx.Commit();
                   return core::Ok();
                 })
                  .ok());
  EXPECT_EQ(service.ConfirmActor(console_, principal).error().code, core::ErrorCode::kUnauthenticated);

  const Account other = Admin();
  Principal inactive{"console", other.id, "platform_admin", "", "jti", core::NewUuid(), 0};
  EXPECT_TRUE(service.ConfirmActor(console_, inactive).ok());
  ASSERT_TRUE(db_->Write([&](db::Transaction& tx) -> core::Status {
                   AccountStore::Update(tx, ConsoleRealm(), other.id,
                                        {std::nullopt, std::nullopt, std::nullopt, std::nullopt, false});
                   tx.Commit();
                   return core::Ok();
                 })
                  .ok());
  EXPECT_EQ(service.ConfirmActor(console_, inactive).error().code, core::ErrorCode::kUnauthenticated);
}

// --- lockout: per account and source, with a slowdown over every source ---

TEST_F(RevocationTest, AStrangerLocksOutOnlyTheirOwnAddress) {
  AuthService service = Service();
  const std::string password = "correct horse battery staple";
  const Account admin = Admin(password);
  const Caller stranger{"203.0.113.9", "req"};
  const Caller holder{"198.51.100.7", "req"};
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(service.Login(console_, admin.email, "wrong guess!", stranger).ok());
  auto locked = service.Login(console_, admin.email, password, stranger);
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, core::ErrorCode::kResourceExhausted) << "the stranger's address is locked";
  EXPECT_TRUE(service.Login(console_, admin.email, password, holder).ok()) << "the holder is not";
  // IPv6 sources count by /64: another address of the same /64 is the same source.
  for (int i = 0; i < 5; ++i) (void)service.Login(console_, admin.email, "wrong guess!", {"2001:db8:1:2::1", "req"});
  EXPECT_FALSE(service.Login(console_, admin.email, password, {"2001:db8:1:2::ffff", "req"}).ok());
  EXPECT_TRUE(service.Login(console_, admin.email, password, {"2001:db8:1:3::1", "req"}).ok());
}

TEST_F(RevocationTest, FailuresFromManyAddressesSlowDownOnlyUnfamiliarOnesAndAnOperatorUnlocks) {
  AuthService service = Service();
  const std::string password = "correct horse battery staple";
  const Account admin = Admin(password);
  const Caller familiar{"198.51.100.20", "req"};
  ASSERT_TRUE(service.Login(console_, admin.email, password, familiar).ok());
  // A spray from 25 addresses, two wrong guesses each: no single address reaches its own lock.
  for (int i = 1; i <= 25; ++i) {
    const Caller source{"203.0.113." + std::to_string(i), "req"};
    for (int j = 0; j < 2; ++j) EXPECT_FALSE(service.Login(console_, admin.email, "wrong guess!", source).ok());
  }
  auto unfamiliar = service.Login(console_, admin.email, password, {"192.0.2.50", "req"});
  ASSERT_FALSE(unfamiliar.ok()) << "a new address waits while the account is under attack";
  EXPECT_EQ(unfamiliar.error().code, core::ErrorCode::kResourceExhausted);
  EXPECT_TRUE(service.Login(console_, admin.email, password, familiar).ok()) << "where the holder signs in, they can";

  auto cleared = service.Unlock(console_, admin.email);
  ASSERT_TRUE(cleared.ok()) << cleared.error().internal;
  EXPECT_GT(*cleared, 0);
  EXPECT_TRUE(service.Login(console_, admin.email, password, {"192.0.2.50", "req"}).ok()) << "unlocked";
  for (int i = 1; i <= 25; ++i) {
    EXPECT_TRUE(service.Login(console_, admin.email, password, {"203.0.113." + std::to_string(i), "req"}).ok());
  }
}

// --- the replica ---

std::string Entry(const std::string& what) {
  return "{itest-" + std::to_string(::getpid()) + "}:auth:deny:" + what + "-" + core::NewUuid().substr(0, 8);
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::log::Init("off");
    redis_ = std::make_shared<cache::RedisClient>(testing::TestRedisConfig(), metrics_);
  }
  std::unique_ptr<RevocationList> Replica() {
    auto list = std::make_unique<RevocationList>(redis_, metrics_);
    list->StartReplica(testing::TestRedisConfig());
    EXPECT_TRUE(testing::WaitFor([&] { return list->InSync(); }, Millis(10'000)));
    return list;
  }
  // A change in Redis that no replica is told about: what a lost message looks like.
  void JournalUnannounced(const std::string& entry) {
    ASSERT_TRUE(redis_->Command({"INCR", RevocationList::kSequenceKey}).ok());
    ASSERT_TRUE(redis_->Command({"ZADD", RevocationList::kListKey, std::to_string(Now() + 600), entry}).ok());
  }
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::shared_ptr<cache::RedisClient> redis_;
};

TEST_F(ReplicaTest, ARevocationInOneProcessIsDeniedByAnotherWithinASecond) {
  auto one = Replica();
  auto other = Replica();
  const std::string entry = Entry("propagates");
  EXPECT_EQ(other->Check({entry}, Now()), Verdict::kAllowed);
  const auto revoked = std::chrono::steady_clock::now();
  ASSERT_TRUE(one->Deny({entry}, Now() + 600).ok());
  EXPECT_EQ(one->Check({entry}, Now()), Verdict::kDenied) << "at once where it was revoked";
  EXPECT_TRUE(
      testing::WaitFor([&] { return other->Check({entry}, Now()) == Verdict::kDenied; }, Millis(1'000), Millis(5)))
      << "within a second everywhere";
  EXPECT_LT(std::chrono::steady_clock::now() - revoked, Millis(1'000));
  EXPECT_TRUE(other->InSync()) << "answered by the replica, not by a Redis read";
  // A replica started later loads what was revoked before it started.
  EXPECT_EQ(Replica()->Check({entry}, Now()), Verdict::kDenied);
  // Entries end at their time.
  EXPECT_EQ(other->Check({entry}, Now() + 601), Verdict::kAllowed);
}

TEST_F(ReplicaTest, AMissedChangeIsNoticedByTheNextNumberAndReadAgain) {
  auto replica = Replica();
  const std::string missed = Entry("missed");
  JournalUnannounced(missed);
  EXPECT_EQ(replica->Check({missed}, Now()), Verdict::kAllowed) << "not known yet: nothing said it";
  RevocationList writer(redis_, metrics_);
  ASSERT_TRUE(writer.Deny({Entry("next")}, Now() + 600).ok());  // its number skips one
  EXPECT_TRUE(testing::WaitFor([&] { return replica->Check({missed}, Now()) == Verdict::kDenied; }, Millis(10'000)));
}

TEST_F(ReplicaTest, ALostSubscriptionNeverAnswersFromWhatItHeld) {
  auto replica = Replica();
  const std::string entry = Entry("unheard");
  JournalUnannounced(entry);
  EXPECT_EQ(replica->Check({entry}, Now()), Verdict::kAllowed) << "what it holds lacks the entry";
  ASSERT_TRUE(redis_->Command({"CLIENT", "KILL", "TYPE", "pubsub"}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !replica->InSync(); }, Millis(10'000), Millis(1))) << "the loss is noticed";
  // From the loss on, no answer comes from what it held: out of sync, checks read Redis; once
  // subscribed again, it has read the whole list.
  EXPECT_EQ(replica->Check({entry}, Now()), Verdict::kDenied);
  ASSERT_TRUE(testing::WaitFor([&] { return replica->InSync(); }, Millis(10'000)));
  EXPECT_EQ(replica->Check({entry}, Now()), Verdict::kDenied);
}

TEST_F(ReplicaTest, WithRedisDownTheVerdictIsUnknownNotAllowed) {
  core::RedisConfig dead;
  ASSERT_TRUE(core::ParseRedisUrl("redis://127.0.0.1:1/0", dead).ok());
  dead.connect_timeout = Millis(50);
  RevocationList list(std::make_shared<cache::RedisClient>(dead, metrics_), metrics_);
  list.StartReplica(dead);
  EXPECT_FALSE(list.InSync());
  EXPECT_EQ(list.Check({Entry("any")}, Now()), Verdict::kUnknown);
  EXPECT_FALSE(list.Deny({Entry("any")}, Now() + 60).ok());
}

}  // namespace
}  // namespace clinicore::auth
