#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/users/users_service.hpp"

namespace clinicore::users {

// The users module's HTTP surface, each route with its access row: sign-up, invitation
// acceptance, the caller's own profile and staff management.
void RegisterUsersRoutes(modules::RouteTable& routes, std::shared_ptr<UsersService> service);

}  // namespace clinicore::users
