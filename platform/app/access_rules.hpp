#pragma once

#include <memory>

#include "platform/auth/access_policy.hpp"

namespace clinicore::app {

// The one access-policy table of the whole API (docs/security.md shows it as a matrix; the
// e2e authorization test is generated from it). Every route a component or module registers
// needs its row here, or `serve` refuses to start.
std::shared_ptr<const auth::AccessPolicy> BuildAccessPolicy();

}  // namespace clinicore::app
