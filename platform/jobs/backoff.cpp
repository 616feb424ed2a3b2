#include "platform/jobs/backoff.hpp"

#include <algorithm>

namespace clinicore::jobs {

core::Millis BackoffPolicy::Ceiling(int attempt) const {
  const int doublings = std::clamp(attempt - 1, 0, 40);
  const long long base_ms = std::max<long long>(base.count(), 0);
  const long long cap = std::max<long long>(max.count(), 0);
  // base × 2^doublings, stopping at the cap before it can overflow.
  long long delay = base_ms;
  for (int i = 0; i < doublings && delay < cap; ++i) delay *= 2;
  return core::Millis(std::min(delay, cap));
}

core::Millis BackoffPolicy::Delay(int attempt, std::mt19937_64& random) const {
  const long long ceiling = Ceiling(attempt).count();
  if (ceiling <= 1) return core::Millis(ceiling);
  std::uniform_int_distribution<long long> jitter(ceiling / 2, ceiling);
  return core::Millis(jitter(random));
}

}  // namespace clinicore::jobs
