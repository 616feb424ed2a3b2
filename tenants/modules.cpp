// The one list of clinic modules (declared by platform/modules/module_set.hpp): adding a module
// is a folder under tenants/ and one line here.
#include "platform/modules/module_set.hpp"
#include "tenants/booking/booking_module.hpp"
#include "tenants/clinics/clinics_module.hpp"
#include "tenants/crm/crm_module.hpp"
#include "tenants/tasks/tasks_module.hpp"
#include "tenants/users/users_module.hpp"

namespace clinicore::modules {

// In dependency order of their data: onboarding hooks run in this order.
ModuleList MakeModules(const ModuleServices& services) {
  ModuleList list;
  list.push_back(users::MakeUsersModule(services));
  list.push_back(clinics::MakeClinicsModule(services));
  list.push_back(crm::MakeCrmModule(services));
  list.push_back(tasks::MakeTasksModule(services));
  list.push_back(booking::MakeBookingModule(services));
  return list;
}

}  // namespace clinicore::modules
