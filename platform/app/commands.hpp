#pragma once

#include <string>

namespace clinicore::app {

// Runs `clinicore <command> ...`; returns the process exit code (0 ok, 1 failure, 2 usage
// or configuration error).
int RunCommand(const std::string& command, int argc, char** argv);

}  // namespace clinicore::app
