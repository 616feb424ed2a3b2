#include "tenants/users/users_module.hpp"

#include "tenants/users/users_routes.hpp"
#include "tenants/users/users_service.hpp"

namespace clinicore::users {
namespace {

class UsersModule final : public modules::Module {
 public:
  explicit UsersModule(const modules::ModuleServices& services)
      : service_(std::make_shared<UsersService>(services.database, services.auth, services.accounts,
                                                services.config.auth.invitation_ttl)) {}

  std::string_view Name() const override { return "users"; }
  void RegisterStatements(db::Database& database) override { UsersService::RegisterStatements(database); }
  void RegisterRoutes(modules::RouteTable& routes) override { RegisterUsersRoutes(routes, service_); }

  std::vector<tenancy::OnboardExtension> OnboardingHooks() override {
    auto service = service_;
    return {{[service](const nlohmann::json& owner) { return service->ValidateOwner(owner); },
             [service](db::Transaction& tx, const tenancy::Tenant& tenant, const nlohmann::json& owner) {
               return service->ProvisionOwner(tx, tenant, owner);
             }}};
  }

  modules::PersonalDataMap PersonalData() const override {
    using modules::Erasure;
    return {
        {"users",
         "id",
         {"email", "full_name", "phone", "locale", "role", "created_at"},
         Erasure::kAnonymize,
         "email becomes erased-<id>@invalid, full_name 'Erased user', phone and locale null; the row stays "
         "for the records that point at it"},
        {"refresh_tokens", "user_id", {"issued_at", "expires_at", "revoked_at"}, Erasure::kDeleteRow},
        {"password_tokens", "user_id", {"created_at", "expires_at", "used_at"}, Erasure::kDeleteRow},
        // The TOTP secret and recovery hashes are credentials: never exported, deleted on erasure.
        {"user_mfa", "account_id", {"confirmed_at", "created_at"}, Erasure::kDeleteRow},
        {"audit_log",
         "subject_id",
         {"occurred_at", "action", "ip", "details"},
         Erasure::kRetain,
         "the audit trail is kept under the tenant's legal duty to account for access to records"},
    };
  }

 private:
  std::shared_ptr<UsersService> service_;
};

}  // namespace

std::unique_ptr<modules::Module> MakeUsersModule(const modules::ModuleServices& services) {
  return std::make_unique<UsersModule>(services);
}

}  // namespace clinicore::users
