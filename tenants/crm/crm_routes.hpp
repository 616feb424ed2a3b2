#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/crm/crm_handler.hpp"

namespace clinicore::crm {

void RegisterCrmRoutes(modules::RouteTable& routes, std::shared_ptr<CrmHandler> handler);

}  // namespace clinicore::crm
