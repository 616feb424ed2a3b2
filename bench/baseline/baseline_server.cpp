// bench/baseline/baseline_server.cpp — the reference point for bench/run.
//
// A bare Pistache server with the same transport settings as `clinicore serve` (same library,
// same thread count, ReuseAddr) that answers every request with 200 {"status":"alive"}. It does
// no routing, no request ids, no metrics and no logging, so the ratio clinicore/baseline shows
// what clinicore's own per-request work costs on top of Pistache itself.
//
//   clinicore_bench_baseline --port N --threads N
//
// Listens on 127.0.0.1 only. Prints one line when it listens, nothing per request, and exits
// 0 on SIGTERM or SIGINT.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

namespace P = Pistache;

class AliveHandler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(AliveHandler)

  void onRequest(const P::Http::Request& /*request*/, P::Http::ResponseWriter writer) override {
    writer.headers().add<P::Http::Header::ContentType>(MIME(Application, Json));
    writer.send(P::Http::Code::Ok, R"({"status":"alive"})");
  }
};

[[noreturn]] void Usage(const char* message) {
  std::cerr << "clinicore_bench_baseline: " << message << "\n"
            << "usage: clinicore_bench_baseline --port N --threads N\n";
  std::exit(2);
}

long ParseNumber(std::string_view flag, const char* text, long min, long max) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) {
    Usage(
        (std::string(flag) + " needs a number between " + std::to_string(min) + " and " + std::to_string(max)).c_str());
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0;
  long threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = ParseNumber(arg, argv[++i], 1, 65535);
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = ParseNumber(arg, argv[++i], 1, 256);
    } else if (arg == "--help" || arg == "-h") {
      Usage("a bare Pistache server for benchmarks");
    } else {
      Usage(("unknown or incomplete argument '" + std::string(arg) + "'").c_str());
    }
  }
  if (port == 0) Usage("--port is required");

  // Blocked before Pistache starts its threads, so they inherit the mask and only sigwait
  // below ever sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    P::Http::Endpoint endpoint(P::Address("127.0.0.1", P::Port(static_cast<uint16_t>(port))));
    endpoint.init(P::Http::Endpoint::options().threads(static_cast<int>(threads)).flags(P::Tcp::Options::ReuseAddr));
    endpoint.setHandler(P::Http::make_handler<AliveHandler>());
    endpoint.serveThreaded();
    std::cout << "baseline listening on 127.0.0.1:" << port << " with " << threads << " thread(s)" << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    endpoint.shutdown();
  } catch (const std::exception& e) {
    std::cerr << "clinicore_bench_baseline: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
