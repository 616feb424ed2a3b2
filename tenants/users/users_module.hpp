#pragma once

#include <memory>

#include "platform/modules/module.hpp"

namespace clinicore::users {

// The users module on the seam: its statements, routes, the onboarding hook that creates the
// tenant's first clinic owner, and where it keeps personal data.
std::unique_ptr<modules::Module> MakeUsersModule(const modules::ModuleServices& services);

}  // namespace clinicore::users
