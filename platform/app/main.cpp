// The composition root: builds the objects, registers the routes, runs one subcommand.
#include <sodium.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <string>

#include "platform/app/commands.hpp"

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "clinicore: libsodium failed to initialise\n";
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string command = argc > 1 ? argv[1] : "help";
  return clinicore::app::RunCommand(command, argc - 1, argv + 1);
}
