#pragma once

#include <memory>

#include "platform/modules/module.hpp"

namespace clinicore::crm {

// Leads, their timeline and tags (docs/crm.md).
std::unique_ptr<modules::Module> MakeCrmModule(const modules::ModuleServices& services);

}  // namespace clinicore::crm
