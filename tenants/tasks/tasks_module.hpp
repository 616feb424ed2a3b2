#pragma once

#include <memory>

#include "platform/modules/module.hpp"

namespace clinicore::tasks {

// Tasks for staff, and the automatic follow-ups of leads (docs/crm.md).
std::unique_ptr<modules::Module> MakeTasksModule(const modules::ModuleServices& services);

}  // namespace clinicore::tasks
