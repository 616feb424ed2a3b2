#pragma once

#include <string>
#include <utility>
#include <variant>

namespace clinicore::sdk::host {

// Why a plugin call (or load) did not produce a usable result. Each kind tells the caller what
// to do: only kPluginError, kMalformedOutput and kDeadlineExceeded are the plugin's fault and
// count toward quarantine.
enum class FailureKind {
  kRefused,           // the library or its descriptor was refused (load time)
  kInvalidInput,      // the input or config is unusable (plugin said CLINICORE_INVALID_INPUT, or the host)
  kPluginError,       // the plugin failed: CLINICORE_PLUGIN_ERROR (it threw), an unknown status, a foreign exception
  kMalformedOutput,   // the output is not JSON, or not the shape the operation promises
  kDeadlineExceeded,  // the plugin did not return in time; its thread is abandoned
  kUnsupported,       // an optional operation the plugin does not offer
  kOverloaded,        // too many earlier calls are still stuck: the host refuses new ones
};

const char* FailureKindName(FailureKind kind);
bool CountsTowardQuarantine(FailureKind kind);

struct Failure {
  FailureKind kind = FailureKind::kPluginError;
  std::string message;  // one line, names the plugin and the operation
};

struct Unit {};

// A value or a Failure (std::expected is C++23).
template <typename T, typename E = Failure>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(E error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, E> state_;
};

}  // namespace clinicore::sdk::host
