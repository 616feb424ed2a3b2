// `clinicore admin …`: platform admins without HTTP (the first one especially), and
// `clinicore auth …`: key generation and the access-policy table.
#include <unistd.h>

#include <iostream>

#include "platform/app/access_rules.hpp"
#include "platform/app/app_context.hpp"
#include "platform/auth/auth_routes.hpp"
#include "platform/auth/totp.hpp"
#include "platform/core/crypto.hpp"

namespace clinicore::app {
namespace {

constexpr const char* kAdminUsage =
    "usage: clinicore admin create <email> <full name>   (password: one line on stdin; none on a terminal\n"
    "                                                     prints a generated one)\n"
    "       clinicore admin ensure <email> <full name>   (create, or leave an existing admin as it is)\n"
    "       clinicore admin mfa-enroll <email>           give an admin a confirmed TOTP second factor: prints\n"
    "                                                     its secret, otpauth URI and recovery codes (once)\n"
    "       clinicore admin mfa-reset <email>            remove an admin's second factor and end their sessions\n";

constexpr const char* kAuthUsage =
    "usage: clinicore auth keygen            print a new CLINICORE_AUTH_SIGNING_KEY value\n"
    "       clinicore auth pubkey            print the public half of CLINICORE_AUTH_SIGNING_KEY in the\n"
    "                                        form CLINICORE_AUTH_VERIFYING_KEYS takes (for rotation)\n"
    "       clinicore auth policy [--json]   print the access-policy table (Markdown or JSON)\n"
    "       clinicore auth unlock <email> [--tenant <slug or id>]\n"
    "                                        end every sign-in lockout of an account (a platform admin\n"
    "                                        without --tenant), from every address\n";

// The password from stdin, or a generated one when stdin is a terminal.
std::string ReadPassword(bool* generated) {
  *generated = ::isatty(STDIN_FILENO) != 0;
  if (*generated) return core::RandomToken(18);
  std::string line;
  std::getline(std::cin, line);
  return line;
}

nlohmann::json RuleJson(const auth::AccessRule& rule) {
  const char* audience = rule.audience == auth::Audience::kAnyone        ? "anyone"
                         : rule.audience == auth::Audience::kTenantUsers ? "tenant_users"
                                                                         : "platform_admins";
  return {{"method", http::MethodName(rule.method)},
          {"path", rule.path_template},
          {"audience", audience},
          {"roles", rule.roles},
          {"own_record_only", rule.own_record_only},
          {"own_param", rule.own_param},
          {"clinic_scoped", rule.clinic_scoped},
          {"clinic_param", rule.clinic_param}};
}

// Lockouts are counted in Redis, keyed by the account's realm (and tenant) and email.
int Unlock(const std::string& email, const std::optional<std::string>& tenant_key) {
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  AppContext context(*config);
  auto identity = MakeIdentityOrExplain(context, *config, true);
  if (!identity) return 2;
  auth::RealmContext realm{&auth::ConsoleRealm(), std::nullopt, ""};
  if (tenant_key) {
    auto tenant = context.directory->Resolve(*tenant_key);
    if (!tenant) {
      std::cerr << "clinicore auth unlock: " << tenant.error().detail << std::endl;
      return tenant.error().code == core::ErrorCode::kNotFound ? 2 : 1;
    }
    realm = {&auth::TenantRealm(), tenant->Scope(), tenant->id};
  }
  auto cleared = identity->auth->Unlock(realm, email);
  if (!cleared) {
    std::cerr << "clinicore auth unlock: " << cleared.error().detail << std::endl;
    return 1;
  }
  std::cout << "unlocked " << email << " (" << *cleared << " counters removed)" << std::endl;
  return 0;
}

// mfa-enroll / mfa-reset: an operator's way in when an admin has no (or lost their) device,
// and the way to enrol the first admins when CLINICORE_CONSOLE_REQUIRE_MFA=1.
int AdminMfa(const std::string& action, const std::string& email) {
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  AppContext context(*config);
  auto identity = MakeIdentityOrExplain(context, *config, true);
  if (!identity) return 2;
  const auth::RealmContext realm{&auth::ConsoleRealm(), std::nullopt, ""};
  const std::string secret = auth::totp::NewSecret();
  const auto codes = auth::totp::NewRecoveryCodes();
  std::vector<std::string> hashes;
  for (const auto& code : codes) hashes.push_back(auth::totp::RecoveryCodeHash(code));
  std::vector<std::string> ended;
  auto done = context.database.Write([&](db::Transaction& tx) -> core::Result<auth::Account> {
    auto account = auth::AccountStore::FindByEmail(tx, auth::ConsoleRealm(), email);
    if (!account) return core::Error::NotFound("No platform admin " + email + " exists.");
    if (action == "mfa-enroll") {
      auth::MfaStore::EnrolConfirmed(tx, auth::ConsoleRealm(), account->id, secret, hashes);
      auth::AccountStore::Audit(tx, auth::ConsoleRealm(), {"mfa.enabled", std::nullopt, account->id, {{"by", "cli"}}},
                                {"cli", ""});
    } else {
      auth::MfaStore::Remove(tx, auth::ConsoleRealm(), account->id);
      ended = identity->auth->RevokeSessions(tx, realm, account->id, "mfa_reset");
      auth::AccountStore::Audit(tx, auth::ConsoleRealm(),
                                {"mfa.reset", std::nullopt, account->id, {{"sessions_ended", ended.size()}}},
                                {"cli", ""});
    }
    tx.Commit();
    return *account;
  });
  if (!done) {
    std::cerr << "clinicore admin " << action << ": " << done.error().detail << std::endl;
    return done.error().code == core::ErrorCode::kNotFound ? 2 : 1;
  }
  if (action == "mfa-reset") {
    identity->auth->AfterCommitRevoke(realm, ended);
    std::cout << "second factor removed for " << email << " (" << ended.size() << " sessions ended)" << std::endl;
    return 0;
  }
  std::cout << "secret: " << auth::totp::Base32(secret) << "\n"
            << "otpauth_uri: " << auth::totp::ProvisioningUri(config->auth.issuer + " console", email, secret) << "\n"
            << "recovery codes (each works once):\n";
  for (const auto& code : codes) std::cout << "  " << code << "\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace

int AdminCommand(int argc, char** argv) {
  if (argc == 3 && (std::string(argv[1]) == "mfa-enroll" || std::string(argv[1]) == "mfa-reset")) {
    return AdminMfa(argv[1], argv[2]);
  }
  if (argc != 4 || (std::string(argv[1]) != "create" && std::string(argv[1]) != "ensure")) {
    std::cerr << kAdminUsage;
    return 2;
  }
  const bool ensure = std::string(argv[1]) == "ensure";
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  AppContext context(*config);
  bool generated = false;
  const std::string password = ReadPassword(&generated);
  auto created = auth::CreatePlatformAdmin(context.database, *context.hasher, argv[2], argv[3], password, std::nullopt,
                                           {"cli", ""});
  if (!created) {
    if (ensure && created.error().code == core::ErrorCode::kAlreadyExists) {
      std::cout << "platform admin " << argv[2] << " exists" << std::endl;
      return 0;
    }
    std::cerr << "clinicore admin: " << created.error().detail;
    for (const auto& field : created.error().fields) std::cerr << "\n  " << field.field << ": " << field.message;
    std::cerr << std::endl;
    return created.error().code == core::ErrorCode::kUnavailable ? 1 : 2;
  }
  std::cout << "platform admin created: " << created->email << " (" << created->id << ")" << std::endl;
  if (generated) std::cout << "password: " << password << std::endl;
  return 0;
}

int AuthCommand(int argc, char** argv) {
  const std::string action = argc >= 2 ? argv[1] : "";
  if (action == "keygen" && argc == 2) {
    std::cout << auth::KeyRing::GenerateSigningKeyText() << std::endl;
    return 0;
  }
  if (action == "pubkey" && argc == 2) {
    auto config = LoadConfigOrExplain();
    if (!config) return 2;
    auto keys = auth::KeyRing::Parse(config->auth.signing_key, "");
    if (!keys) {
      std::cerr << "clinicore auth: " << keys.error().detail << std::endl;
      return 2;
    }
    const auto jwk = keys->Jwks()["keys"][0];
    std::cout << jwk["kid"].get<std::string>() << ":" << jwk["x"].get<std::string>() << std::endl;
    return 0;
  }
  if (action == "policy" && (argc == 2 || (argc == 3 && std::string(argv[2]) == "--json"))) {
    // The modules' rows come with their routes: build them as `serve` would, without serving.
    auto config = LoadConfigOrExplain();
    if (!config) return 2;
    AppContext context(*config);
    auto identity = MakeIdentityOrExplain(context, *config, true);
    if (!identity) return 2;
    const auto modules = MakeModuleSet(context, *config, *identity);
    http::Router router;
    const modules::IdempotencyKeys idempotency(context.database);
    const auto policy = BuildAccessPolicy(modules->RegisterRoutes(router, idempotency));
    if (argc == 2) {
      std::cout << policy->MarkdownMatrix();
      return 0;
    }
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& rule : policy->rules()) rules.push_back(RuleJson(rule));
    std::cout << rules.dump(2) << std::endl;
    return 0;
  }
  if (action == "unlock" && (argc == 3 || (argc == 5 && std::string(argv[3]) == "--tenant"))) {
    return Unlock(argv[2], argc == 5 ? std::optional<std::string>(argv[4]) : std::nullopt);
  }
  std::cerr << kAuthUsage;
  return 2;
}

}  // namespace clinicore::app
