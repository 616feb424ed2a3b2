#pragma once

#include <memory>

#include "platform/modules/module.hpp"

namespace clinicore::booking {

// Availability, slot holds and appointments that can never double-book (docs/booking.md).
std::unique_ptr<modules::Module> MakeBookingModule(const modules::ModuleServices& services);

}  // namespace clinicore::booking
