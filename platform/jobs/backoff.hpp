#pragma once

#include <random>

#include "platform/core/config.hpp"

namespace clinicore::jobs {

// Exponential backoff with jitter: attempt n waits base × 2^(n−1), capped at `max`, drawn
// uniformly from the upper half of that ([d/2, d]) so that jobs that failed together do not
// all come back together. The same formula reclaims expired leases in SQL
// (queries::kReclaimExpired).
struct BackoffPolicy {
  core::Millis base{1'000};
  core::Millis max{3'600'000};

  // The cap before jitter for `attempt` (1 = the first attempt failed).
  core::Millis Ceiling(int attempt) const;
  core::Millis Delay(int attempt, std::mt19937_64& random) const;
};

}  // namespace clinicore::jobs
