#pragma once

#include <cstdint>
#include <memory>

#include "platform/core/bounded_pool.hpp"
#include "platform/core/config.hpp"
#include "platform/core/result.hpp"
#include "platform/http/dispatcher.hpp"

namespace Pistache::Http {
class Endpoint;
}

namespace clinicore::http {

// Owns the Pistache endpoint. Pistache only moves bytes here; all behaviour lives in the
// Dispatcher so it is the same in tests and in production.
class HttpServer {
 public:
  // `hash_pool` (optional, may be shared by several servers) runs the routes marked
  // cpu_heavy off the I/O threads.
  HttpServer(core::HttpConfig config, std::shared_ptr<Dispatcher> dispatcher,
             std::shared_ptr<core::BoundedPool> hash_pool = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (port 0 picks a free port) and serves on background threads.
  core::Status Start();
  uint16_t port() const;

  // Stops taking new work (503 + Connection: close), waits up to the grace period for
  // in-flight requests, then closes the endpoint.
  void Stop();

  // Pistache's own buffer limit: the app's body limit plus 64 KiB.
  static size_t TransportLimit(size_t max_body_bytes);

 private:
  core::HttpConfig config_;
  std::shared_ptr<Dispatcher> dispatcher_;
  std::shared_ptr<core::BoundedPool> hash_pool_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  bool running_ = false;
};

}  // namespace clinicore::http
