#pragma once

#include <memory>

#include "platform/modules/module.hpp"

namespace clinicore::clinics {

// The clinics & catalogue module (docs/modules.md walks through it): clinics, closures,
// services, practitioners and their time off, rooms and devices, staff memberships, and the
// per-clinic row scope every other module's rules use.
std::unique_ptr<modules::Module> MakeClinicsModule(const modules::ModuleServices& services);

}  // namespace clinicore::clinics
