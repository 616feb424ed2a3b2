// clinicore-plugin-test <plugin.so> [samples.json] [--timeout-ms N] [--allow-private-http]
#include <cstdlib>
#include <iostream>
#include <string>

#include "clinicore/sdk/abi.h"
#include "testkit.hpp"

namespace {

constexpr const char* kUsage =
    "usage: clinicore-plugin-test <plugin.so> [samples.json] [--timeout-ms N] [--allow-private-http]\n"
    "\n"
    "Loads a clinicore plugin with the platform's loader, checks its descriptor and config schema,\n"
    "runs robustness calls and the sample calls in samples.json against a fake host, and prints a\n"
    "conformance report. Exit status: 0 every check passed, 1 a check failed, 2 bad usage.\n"
    "See docs/plugin-guide.md for the samples format.\n";

}  // namespace

int main(int argc, char** argv) {
  clinicore::sdk::testkit::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "clinicore-plugin-test (SDK ABI " << CLINICORE_SDK_ABI_MAJOR << "." << CLINICORE_SDK_ABI_MINOR
                << ")\n";
      return 0;
    }
    if (arg == "--allow-private-http") {
      options.allow_private_http = true;
    } else if (arg == "--timeout-ms" && i + 1 < argc) {
      options.timeout_ms = std::atoi(argv[++i]);
      if (options.timeout_ms < 1) {
        std::cerr << "clinicore-plugin-test: --timeout-ms needs a positive number\n";
        return 2;
      }
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "clinicore-plugin-test: unknown option " << arg << "\n\n" << kUsage;
      return 2;
    } else if (options.plugin_path.empty()) {
      options.plugin_path = arg;
    } else if (!options.samples_path) {
      options.samples_path = arg;
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if (options.plugin_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  return clinicore::sdk::testkit::RunConformance(options, std::cout);
}
