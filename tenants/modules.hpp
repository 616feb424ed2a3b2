#pragma once

// The one list of clinic modules: platform/modules/module_set.hpp declares MakeModules and
// tenants/modules.cpp defines it. Adding a module is a folder under tenants/ and one line there.
#include "platform/modules/module_set.hpp"
