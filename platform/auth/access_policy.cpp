#include "platform/auth/access_policy.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "platform/cache/address_bucket.hpp"
#include "platform/tenancy/tenancy_middleware.hpp"

namespace clinicore::auth {
namespace {

using core::Error;
using core::ErrorCode;

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Error Forbidden(std::string detail) {
  return Error::PermissionDenied(std::move(detail));
}

bool Mutates(http::Method method) {
  return method != http::Method::kGet && method != http::Method::kHead;
}

// Only managers (or platform admins) may call it: a change there fails closed.
bool ManagersOnly(const AccessRule& rule) {
  if (rule.audience == Audience::kPlatformAdmins) return true;
  return !rule.roles.empty() && std::all_of(rule.roles.begin(), rule.roles.end(),
                                            [](const std::string& role) { return Contains(ManagerRoles(), role); });
}

std::string Describe(const http::Route& route) {
  return std::string(http::MethodName(route.method)) + " " + route.path_template;
}

}  // namespace

bool IsTenantRole(const std::string& role) {
  return Contains(TenantRoles(), role);
}

AccessPolicy::AccessPolicy(std::vector<AccessRule> rules) : rules_(std::move(rules)) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const auto& rule = rules_[i];
    for (const auto& role : rule.roles) {
      if (!IsTenantRole(role)) table_problems_.push_back("unknown role '" + role + "' in " + rule.path_template);
    }
    if (!index_.emplace(std::make_pair(rule.method, rule.path_template), i).second) {
      table_problems_.push_back("two rules for " + std::string(http::MethodName(rule.method)) + " " +
                                rule.path_template);
    }
  }
}

const AccessRule* AccessPolicy::Find(http::Method method, const std::string& path_template) const {
  const auto it = index_.find({method, path_template});
  return it == index_.end() ? nullptr : &rules_[it->second];
}

void AccessPolicy::RequireEveryRoute(const http::Router& router) const {
  std::vector<std::string> problems = table_problems_;
  size_t matched = 0;
  for (const auto& route : router.routes()) {
    const AccessRule* rule = Find(route.method, route.path_template);
    if (rule == nullptr) {
      problems.push_back("no access rule for " + Describe(route));
      continue;
    }
    ++matched;
    const auto scope = route.options.scope;
    if ((rule->audience == Audience::kTenantUsers && scope != http::RouteScope::kTenant) ||
        (rule->audience == Audience::kPlatformAdmins && scope != http::RouteScope::kConsole) ||
        (rule->audience == Audience::kTenantUsers && rule->roles.empty())) {
      problems.push_back("the access rule of " + Describe(route) + " does not fit its scope");
    }
  }
  if (matched != rules_.size()) problems.push_back("the access policy has rules for routes that do not exist");
  if (problems.empty()) return;
  std::string message = "refusing to start:";
  for (const auto& problem : problems) message += "\n  " + problem;
  throw std::logic_error(message);
}

std::string AccessPolicy::MarkdownMatrix() const {
  std::ostringstream out;
  out << "| route |";
  for (const auto& role : TenantRoles()) out << " " << role << " |";
  out << " platform admin | note |\n|---|";
  for (size_t i = 0; i <= TenantRoles().size(); ++i) out << "---|";
  out << "---|\n";
  for (const auto& rule : rules_) {
    out << "| `" << http::MethodName(rule.method) << " " << rule.path_template << "` |";
    for (const auto& role : TenantRoles()) {
      const char* cell = rule.audience == Audience::kAnyone                                       ? " any |"
                         : rule.audience != Audience::kTenantUsers || !Contains(rule.roles, role) ? " — |"
                         : Contains(rule.own_record_only, role)                                   ? " own |"
                         : Contains(rule.clinic_scoped, role)                                     ? " their clinics |"
                                                                                                  : " ✓ |";
      out << cell;
    }
    out << (rule.audience == Audience::kPlatformAdmins ? " ✓ |"
            : rule.audience == Audience::kAnyone       ? " any |"
                                                       : " — |");
    out << " " << rule.note << " |\n";
  }
  return out.str();
}

namespace {
std::string LowerAscii(std::string text) {
  for (auto& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}
}  // namespace

AccessRule OpenTo(http::Method method, std::string path, std::string note) {
  return {method, std::move(path), Audience::kAnyone, {}, {}, "id", std::move(note)};
}

AccessRule PlatformAdminsOnly(http::Method method, std::string path) {
  return {method, std::move(path), Audience::kPlatformAdmins, {}, {}, "id", {}};
}

AccessRule RolesMay(http::Method method, std::string path, std::vector<std::string> roles,
                    std::vector<std::string> own_only, std::string note) {
  return {method, std::move(path), Audience::kTenantUsers, std::move(roles), std::move(own_only),
          "id",   std::move(note)};
}

AccessRule ScopedToClinics(AccessRule rule, std::vector<std::string> roles, std::string clinic_param) {
  rule.clinic_scoped = std::move(roles);
  rule.clinic_param = std::move(clinic_param);
  return rule;
}

const std::vector<std::string>& EveryRole() {
  return TenantRoles();
}
const std::vector<std::string>& ManagerRoles() {
  static const std::vector<std::string> roles = {"admin", "clinic_owner"};
  return roles;
}
const std::vector<std::string>& StaffRoles() {
  static const std::vector<std::string> roles = {"admin", "clinic_owner", "doctor", "secretariat", "salesperson"};
  return roles;
}
const std::vector<std::string>& ScopedRoles() {
  static const std::vector<std::string> roles = {"clinic_owner", "doctor", "secretariat", "salesperson"};
  return roles;
}

bool AccessPolicy::DeclaresClinicScope() const {
  return std::any_of(rules_.begin(), rules_.end(), [](const AccessRule& rule) { return !rule.clinic_scoped.empty(); });
}

RealmContext RealmOf(const http::RequestContext& context) {
  if (context.route != nullptr && context.route->options.scope == http::RouteScope::kTenant) {
    const auto& tenant = tenancy::CurrentTenant(context);
    return {&TenantRealm(), tenant.Scope(), tenant.id};
  }
  return {&ConsoleRealm(), std::nullopt, ""};
}

http::Middleware Authorization(std::shared_ptr<const AccessPolicy> policy, std::shared_ptr<AuthService> auth,
                               std::shared_ptr<ClinicScopeSource> clinics) {
  if (!clinics && policy->DeclaresClinicScope()) {
    throw std::logic_error(
        "refusing to start: the access policy declares per-clinic scopes but no module answers them");
  }
  return [policy, auth, clinics](http::RequestContext& context) -> core::Status {
    if (context.route == nullptr) return core::Ok();
    const AccessRule* rule = policy->Find(context.route->method, context.route->path_template);
    if (rule == nullptr) return Forbidden("This route has no access rule.");  // unreachable: checked at start-up
    if (rule->audience == Audience::kAnyone) return core::Ok();

    const RealmContext realm = RealmOf(context);
    const bool mutates = Mutates(context.route->method);
    auto principal = auth->authenticator().Authenticate(context, realm, mutates && ManagersOnly(*rule));
    if (!principal) return std::move(principal).error();
    if (mutates && (realm.tenant_id.empty() || Contains(ManagerRoles(), principal->role))) {
      if (auto confirmed = auth->ConfirmActor(realm, *principal); !confirmed) return confirmed;
    }
    if (rule->audience == Audience::kPlatformAdmins) {
      if (principal->role != kPlatformAdminRole) return Forbidden("Only platform admins may do this.");
    } else if (!Contains(rule->roles, principal->role)) {
      return Forbidden("Your role (" + principal->role + ") may not do this.");
    }
    if (Contains(rule->own_record_only, principal->role)) {
      const auto param = context.path_params.find(rule->own_param);
      // UUIDs compare in lower case: the same id in capitals is the same record.
      if (param == context.path_params.end() || LowerAscii(param->second) != principal->subject) {
        return Forbidden("Your role (" + principal->role + ") may only do this for your own account.");
      }
    }
    if (Contains(rule->clinic_scoped, principal->role)) {
      auto scope = clinics->ClinicsOf(RealmOf(context), principal->subject, principal->role);
      if (!scope) return std::move(scope).error();
      if (!rule->clinic_param.empty()) {
        const auto param = context.path_params.find(rule->clinic_param);
        const std::string wanted = param == context.path_params.end() ? "" : LowerAscii(param->second);
        if (std::find(scope->begin(), scope->end(), wanted) == scope->end()) {
          // Not "forbidden": a clinic outside the caller's scope does not exist for them.
          return core::Error::NotFound("No such clinic.");
        }
      }
      context.clinic_scope = std::move(scope).value();
    }
    context.actor_id = principal->subject;
    context.principal = std::move(principal).value();
    return core::Ok();
  };
}

http::Middleware TenantRateLimit(std::shared_ptr<cache::BatchedBudget> budget, int per_minute) {
  return [budget, per_minute](http::RequestContext& context) -> core::Status {
    if (per_minute <= 0 || !context.tenant_id) return core::Ok();
    const auto decision =
        budget->Hit(cache::TenantKey(*context.tenant_id, "rate:api"), {per_minute, std::chrono::minutes(1)});
    if (decision.allowed) return core::Ok();
    Error error{ErrorCode::kResourceExhausted, "This tenant has used its request budget for this minute.", {}, {}};
    error.retry_after_seconds = static_cast<int>(decision.retry_after.count());
    return error;
  };
}

http::Middleware AddressRateLimit(std::shared_ptr<cache::BatchedBudget> budget, int per_minute) {
  return [budget, per_minute](http::RequestContext& context) -> core::Status {
    if (per_minute <= 0 || context.route == nullptr || !context.route->options.limit_per_address) return core::Ok();
    const auto decision = budget->Hit("{platform}:rate:anonymous:ip:" + cache::AddressBucket(context.raw.peer_address),
                                      {per_minute, std::chrono::minutes(1)});
    if (decision.allowed) return core::Ok();
    Error error{ErrorCode::kResourceExhausted, "Too many requests from your address; try again later.", {}, {}};
    error.retry_after_seconds = static_cast<int>(decision.retry_after.count());
    return error;
  };
}

}  // namespace clinicore::auth
