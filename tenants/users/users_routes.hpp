#pragma once

#include <memory>

#include "platform/http/router.hpp"
#include "tenants/users/users_service.hpp"

namespace clinicore::users {

// The users module's HTTP surface: sign-up, invitation acceptance, the caller's own profile
// and staff management. Who may call what is in the platform's policy table.
void RegisterUsersRoutes(http::Router& router, std::shared_ptr<UsersService> service);

}  // namespace clinicore::users
