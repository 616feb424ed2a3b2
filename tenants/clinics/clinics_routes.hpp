#pragma once

#include <memory>

#include "platform/modules/route_table.hpp"
#include "tenants/clinics/clinics_handler.hpp"

namespace clinicore::clinics {

// Registration only: each route of the clinics module with its access row.
void RegisterClinicsRoutes(modules::RouteTable& routes, std::shared_ptr<ClinicsHandler> handler);

}  // namespace clinicore::clinics
