#include "platform/jobs/job.hpp"

namespace clinicore::jobs {

Outcome Outcome::FromError(const core::Error& error) {
  using core::ErrorCode;
  const std::string reason = error.internal.empty() ? error.detail : error.detail + " (" + error.internal + ")";
  if (error.code == ErrorCode::kResourceExhausted && error.retry_after_seconds > 0) {
    return Snooze(reason, Millis(static_cast<long long>(error.retry_after_seconds) * 1000));
  }
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kAborted:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kInternal:
      return Retry(reason);
    default:
      return Fail(reason);
  }
}

std::string_view CancelReasonName(CancelReason reason) {
  switch (reason) {
    case CancelReason::kNone:
      return "none";
    case CancelReason::kShutdown:
      return "shutdown";
    case CancelReason::kDeadline:
      return "deadline";
    case CancelReason::kLeaseLost:
      return "lease_lost";
  }
  return "none";
}

void CancelToken::Cancel(CancelReason reason) {
  CancelReason expected = CancelReason::kNone;
  if (reason_.compare_exchange_strong(expected, reason)) {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
}

bool CancelToken::SleepFor(Millis duration) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, duration, [this] { return cancelled(); });
}

}  // namespace clinicore::jobs
