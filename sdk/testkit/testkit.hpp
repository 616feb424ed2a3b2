#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace clinicore::sdk::testkit {

struct Options {
  std::string plugin_path;
  std::optional<std::string> samples_path;
  int timeout_ms = 5000;
  bool allow_private_http = false;
};

// Loads the plugin outside the platform with the platform's own loader, checks its descriptor
// and config schema, runs the built-in robustness calls and the sample calls against a fake
// host (the platform's host-services code over an in-memory key-value store, and canned HTTP
// responses when the samples give some), and prints one PASS/WARN/FAIL line per check and a
// summary. Returns the process exit code: 0 all passed, 1 a check failed, 2 bad usage/samples.
int RunConformance(const Options& options, std::ostream& out);

}  // namespace clinicore::sdk::testkit
