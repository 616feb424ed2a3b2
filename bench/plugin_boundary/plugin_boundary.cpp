// The cost of the plugin boundary per call, against a direct C++ call of the same channel.
//
//   clinicore_bench_plugin_boundary [iterations]
//
// direct       the NoopChannel class compiled into this binary, called through its C++ interface
//              with a ready SendRequest (what a statically linked channel would cost);
// c-abi        the same class in a plugin .so loaded with the platform's loader, called through
//              the C ABI on this thread: input JSON serialized, parsed by the plugin's C++ layer,
//              output JSON written to the host's sink, parsed and shape-checked by the host;
// deadline     as c-abi, plus the worker's deadline mechanism (DeadlineExecutor): the call runs
//              on a pooled thread and this thread waits for it; this is what every worker call pays.
// Prints ns per call and the ratios. Results go to docs/performance.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "clinicore/sdk/host/invoke.hpp"
#include "noop_channel.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace host = clinicore::sdk::host;

template <typename Fn>
double NanosPerCall(int iterations, Fn&& fn) {
  for (int i = 0; i < iterations / 10; ++i) fn();  // warm up
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) fn();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 200'000;
  auto services = std::make_shared<host::HostServices>(std::make_shared<host::CurlHttpTransport>(host::CurlOptions{}),
                                                       std::make_shared<host::MemoryKeyValueStore>(),
                                                       std::make_shared<host::StreamLogSink>(std::cerr));
  host::Invoker invoker(services, std::make_shared<host::DeadlineExecutor>(4));
  host::PluginCatalog catalog;
  auto loaded = catalog.Load(CLINICORE_BENCH_NOOP_PLUGIN);
  if (!loaded) {
    std::cerr << loaded.error().message << "\n";
    return 1;
  }
  const host::CallIdentity who{"00000000-0000-4000-8000-000000000001", "bench-noop", "1.0.0"};
  auto instance = invoker.Create(*loaded, nlohmann::json::object(), who, 1s);
  if (!instance) {
    std::cerr << instance.error().message << "\n";
    return 1;
  }
  // A realistic notification: subject, body, recipient, tenant, idempotency key.
  const nlohmann::json input = {
      {"message", {{"subject", "Appointment reminder"}, {"body", "See you tomorrow at 10:00 at the Kifisia clinic."}}},
      {"recipient", {{"user_id", "4b0c7e1e-5d55-4f0e-9b8e-6d1f2a0c9e11"}, {"email", "maria@example.com"}}},
      {"tenant", {{"id", who.tenant_id}, {"slug", "demo"}, {"locale", "el"}, {"time_zone", "Europe/Athens"}}},
      {"idempotency_key", "notification-123456"}};

  // direct
  clinicore::sdk::SendRequest request;
  request.message = input["message"];
  request.recipient = input["recipient"];
  request.idempotency_key = input["idempotency_key"];
  host::CallScope scope;
  scope.services = services;
  scope.identity = who;
  clinicore_host raw_host = scope.Host();
  clinicore::sdk::Host sdk_host(&raw_host);
  clinicore::bench::NoopChannel direct(nlohmann::json::object(), sdk_host);
  clinicore::sdk::Channel& channel = direct;
  size_t sink = 0;
  const double direct_ns = NanosPerCall(iterations, [&] { sink += channel.Send(request, sdk_host).ToJson().size(); });

  // c-abi
  const host::CallInput call_input{input, ""};
  const double abi_ns = NanosPerCall(iterations, [&] {
    auto out = host::CallOperation(**instance, host::Operation::kSend, call_input, scope);
    sink += out.ok() ? 1 : 0;
  });

  // The JSON work alone (what c-abi adds besides the calls): the host serializes the input, the
  // plugin parses it and serializes its answer, the host parses that.
  const nlohmann::json answer = {{"status", "delivered"}, {"provider_message_id", "noop-notification-123456"}};
  const double json_ns = NanosPerCall(iterations, [&] {
    const auto parsed = nlohmann::json::parse(input.dump());
    sink += nlohmann::json::parse(answer.dump()).size() + parsed.size();
  });

  // deadline
  const int deadline_iterations = iterations / 4;
  const double deadline_ns = NanosPerCall(deadline_iterations, [&] {
    auto out = invoker.Call(*instance, host::Operation::kSend, call_input, who, 1s);
    sink += out.ok() ? 1 : 0;
  });

  std::printf("plugin boundary, no-op channel send, %d iterations (deadline: %d)\n", iterations, deadline_iterations);
  std::printf("  direct C++ call          %9.0f ns/call\n", direct_ns);
  std::printf("  through the C ABI        %9.0f ns/call  (%.1fx direct, +%.0f ns)\n", abi_ns, abi_ns / direct_ns,
              abi_ns - direct_ns);
  std::printf("    of which JSON in and out %7.0f ns/call\n", json_ns);
  std::printf("  C ABI + deadline thread  %9.0f ns/call  (%.1fx direct, +%.0f ns)\n", deadline_ns,
              deadline_ns / direct_ns, deadline_ns - direct_ns);
  std::printf("  => at most %.0f boundary crossings/s per core\n", 1e9 / deadline_ns);
  return sink == 0 ? 1 : 0;
}
