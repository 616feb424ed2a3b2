// `clinicore tenant …`: the console's tenant operations for operators without HTTP, over
// the same TenantService.
#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "platform/app/app_context.hpp"
#include "platform/auth/access_policy.hpp"
#include "platform/auth/account_provisioning.hpp"
#include "platform/core/crypto.hpp"

namespace clinicore::app {
namespace {

constexpr const char* kTenantUsage =
    "usage: clinicore tenant create <slug> <display name> --owner-email E --owner-name N [--time-zone Z]\n"
    "                               [--locale L]   (owner password: one line on stdin; else an invitation)\n"
    "       clinicore tenant list [--status active|suspended|offboarding]\n"
    "       clinicore tenant show|suspend|resume|offboard <slug or id> [--reason R]\n"
    "       clinicore tenant export <slug or id> --to <folder>\n"
    "       clinicore tenant purge <slug or id>\n"
    "       clinicore tenant purge-due\n"
    "       clinicore tenant ensure-demo [--password P]\n"
    "       clinicore tenant ensure-user <slug or id> <email> <role> [--name N]   (password: one line on stdin;\n"
    "                               creates the user or resets its password, role and activation)\n";

struct Arguments {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::string problem;
};

Arguments Parse(int argc, char** argv) {
  Arguments args;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        args.problem = arg + " needs a value";
        break;
      }
      args.options[arg.substr(2)] = argv[++i];
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

tenancy::Actor CliActor() {
  const passwd* user = ::getpwuid(::geteuid());
  return {std::string("cli:") + (user ? user->pw_name : "unknown"), ""};
}

void Print(const tenancy::Tenant& tenant) {
  std::cout << tenancy::ConsoleJson(tenant).dump(2) << std::endl;
}

int Fail(const core::Error& error) {
  std::cerr << "clinicore tenant: " << error.detail;
  for (const auto& field : error.fields) std::cerr << "\n  " << field.field << ": " << field.message;
  std::cerr << std::endl;
  return error.code == core::ErrorCode::kUnavailable || error.code == core::ErrorCode::kInternal ? 1 : 2;
}

int Create(tenancy::TenantService& service, const Arguments& args) {
  if (args.positional.size() != 2) {
    std::cerr << kTenantUsage;
    return 2;
  }
  tenancy::OnboardRequest request;
  request.slug = args.positional[0];
  request.display_name = args.positional[1];
  if (auto it = args.options.find("time-zone"); it != args.options.end()) request.time_zone = it->second;
  if (auto it = args.options.find("locale"); it != args.options.end()) request.locale = it->second;
  request.owner = nlohmann::json::object();
  if (auto it = args.options.find("owner-email"); it != args.options.end()) request.owner["email"] = it->second;
  if (auto it = args.options.find("owner-name"); it != args.options.end()) request.owner["full_name"] = it->second;
  if (::isatty(STDIN_FILENO) == 0) {
    std::string password;
    if (std::getline(std::cin, password) && !password.empty()) request.owner["password"] = password;
  }
  auto result = service.Onboard(request, CliActor(), std::nullopt);
  if (!result) return Fail(result.error());
  nlohmann::json body = tenancy::ConsoleJson(result->tenant);
  body["owner"] = result->owner;
  std::cout << body.dump(2) << std::endl;
  return 0;
}

int List(tenancy::TenantService& service, const Arguments& args) {
  tenancy::ListQuery query;
  if (auto it = args.options.find("status"); it != args.options.end()) query.status = it->second;
  query.page.limit = 100;
  while (true) {
    auto page = service.List(query);
    if (!page) return Fail(page.error());
    for (const auto& tenant : page->items) {
      std::cout << tenant.slug << "\t" << tenant.status << "\t" << tenant.id << "\t" << tenant.display_name << "\n";
    }
    if (!page->next_cursor) break;
    auto after = kit::DecodeCursor(query.page.list, *page->next_cursor);
    if (!after) return Fail(after.error());
    query.page.after = std::move(after).value();
  }
  std::cout << std::flush;
  return 0;
}

// The demo tenant scripts/run offers a new user: created once, reused afterwards, with one
// user per role (<role>@demo.clinicore.test) whose password is set to the given one.
int EnsureDemo(tenancy::TenantService& service, AppContext& context, const Identity& identity, const Arguments& args) {
  const auto password_option = args.options.find("password");
  const std::string password = password_option != args.options.end() ? password_option->second : core::RandomToken(12);
  auto existing = service.Get("demo");
  std::optional<tenancy::Tenant> tenant;
  if (existing) {
    tenant = existing->tenant;
    std::cout << "demo tenant: " << tenant->slug << " (" << tenant->id << "), " << tenant->status << std::endl;
  } else if (existing.error().code != core::ErrorCode::kNotFound) {
    return Fail(existing.error());
  } else {
    tenancy::OnboardRequest request{
        "demo", "Demo Aesthetics Clinic", "Europe/Athens",
        "en",   nlohmann::json::object(), {{"email", "clinic_owner@demo.clinicore.test"}, {"full_name", "Demo Owner"}}};
    auto created = service.Onboard(request, CliActor(), std::nullopt);
    if (!created) return Fail(created.error());
    tenant = created->tenant;
    std::cout << "demo tenant: created " << tenant->slug << " (" << tenant->id << ")" << std::endl;
  }
  const auth::RealmContext realm{&auth::TenantRealm(), tenant->Scope(), tenant->id};
  for (const auto& role : auth::TenantRoles()) {
    const std::string email = role + "@demo.clinicore.test";
    auto user = auth::EnsureAccount(context.database, *identity.auth, *identity.accounts, realm, email, "Demo " + role,
                                    role, password);
    if (!user) return Fail(user.error());
    std::cout << "demo login: " << email << " / " << password << " (" << role << ")" << std::endl;
  }
  return 0;
}

// Creates a tenant user with a known password, or resets an existing one (an operator
// letting a locked-out admin back in; tests).
int EnsureUser(tenancy::TenantService& service, AppContext& context, const Identity& identity, const Arguments& args) {
  if (args.positional.size() != 3) {
    std::cerr << kTenantUsage;
    return 2;
  }
  auto detail = service.Get(args.positional[0]);
  if (!detail) return Fail(detail.error());
  const auto name = args.options.find("name");
  std::string password;
  if (::isatty(STDIN_FILENO) != 0 || !std::getline(std::cin, password) || password.empty()) {
    password = core::RandomToken(12);
    std::cout << "password: " << password << std::endl;
  }
  const auto& tenant = detail->tenant;
  const std::string& role = args.positional[2];
  if (!auth::IsTenantRole(role)) {
    return Fail(core::Error::InvalidArgument("role must be one of the tenant roles.", {{"role", "is not a role"}}));
  }
  auto user = auth::EnsureAccount(context.database, *identity.auth, *identity.accounts,
                                  {&auth::TenantRealm(), tenant.Scope(), tenant.id}, args.positional[1],
                                  name != args.options.end() ? name->second : args.positional[1], role, password);
  if (!user) return Fail(user.error());
  std::cout << auth::AccountJson(*user).dump(2) << std::endl;
  return 0;
}

// The purge a scheduled job will run: every offboarding tenant past its retention that has
// an export.
int PurgeDue(tenancy::TenantService& service) {
  auto outcome = service.PurgeDue(CliActor());
  if (!outcome) return Fail(outcome.error());
  for (const auto& [slug, result] : *outcome) std::cout << slug << "\t" << result << "\n";
  std::cout << outcome->size() << " tenant(s) due" << std::endl;
  return 0;
}

}  // namespace

int TenantCommand(int argc, char** argv) {
  const Arguments args = Parse(argc, argv);
  if (argc < 2 || !args.problem.empty()) {
    if (!args.problem.empty()) std::cerr << "clinicore tenant: " << args.problem << "\n";
    std::cerr << kTenantUsage;
    return 2;
  }
  const std::string action = argv[1];
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  auto tenant_files = LoadMigrationsOrExplain(*config, "tenant");
  if (!tenant_files) return 2;
  AppContext context(*config);
  auto identity = MakeIdentityOrExplain(context, *config, true);
  if (!identity) return 2;
  auto modules = MakeModuleSet(context, *config, *identity);
  auto service = MakeTenantService(context, *config, std::move(*tenant_files));
  modules->JoinOnboarding(*service);

  if (action == "create") return Create(*service, args);
  if (action == "list") return List(*service, args);
  if (action == "ensure-demo") return EnsureDemo(*service, context, *identity, args);
  if (action == "ensure-user") return EnsureUser(*service, context, *identity, args);
  if (action == "purge-due") return PurgeDue(*service);
  if (args.positional.size() != 1) {
    std::cerr << kTenantUsage;
    return 2;
  }
  const std::string& key = args.positional[0];
  std::optional<std::string> reason;
  if (auto it = args.options.find("reason"); it != args.options.end()) reason = it->second;
  core::Result<tenancy::Tenant> changed = core::Error::InvalidArgument("unknown action");
  if (action == "show") {
    auto detail = service->Get(key);
    if (!detail) return Fail(detail.error());
    nlohmann::json body = tenancy::ConsoleJson(detail->tenant);
    body["pending_migrations"] = detail->pending_migrations;
    body["row_counts"] = detail->row_counts;
    std::cout << body.dump(2) << std::endl;
    return 0;
  }
  if (action == "export") {
    auto to = args.options.find("to");
    if (to == args.options.end()) {
      std::cerr << "clinicore tenant export: --to <folder> is required\n";
      return 2;
    }
    auto report = service->Export(key, to->second, CliActor());
    if (!report) return Fail(report.error());
    std::cout << "exported " << report->tables << " tables, " << report->rows << " rows to " << report->location
              << std::endl;
    return 0;
  }
  if (action == "purge") {
    changed = service->Purge(key, CliActor());
  } else if (action == "suspend") {
    changed = service->Suspend(key, reason, CliActor());
  } else if (action == "resume") {
    changed = service->Resume(key, CliActor());
  } else if (action == "offboard") {
    changed = service->Offboard(key, CliActor());
  } else {
    std::cerr << "clinicore tenant: unknown action '" << action << "'\n" << kTenantUsage;
    return 2;
  }
  if (!changed) return Fail(changed.error());
  Print(*changed);
  return 0;
}

}  // namespace clinicore::app
