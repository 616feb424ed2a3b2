#pragma once

#include <memory>
#include <vector>

#include "platform/auth/access_policy.hpp"

namespace clinicore::app {

// The one access-policy table of the whole API (docs/security.md shows it as a matrix; the
// e2e authorization test is generated from it): the platform's own rows here, and the rows
// the modules registered with their routes. Every route needs its row, or `serve` refuses
// to start.
std::shared_ptr<const auth::AccessPolicy> BuildAccessPolicy(std::vector<auth::AccessRule> module_rules);

}  // namespace clinicore::app
