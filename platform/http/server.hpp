#pragma once

#include <cstdint>
#include <memory>

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
  HttpServer(core::HttpConfig config, std::shared_ptr<Dispatcher> dispatcher);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (port 0 picks a free port) and serves on background threads.
  core::Status Start();
  uint16_t port() const;

  // Stops taking new work (503 + Connection: close), waits up to the grace period for
  // in-flight requests, then closes the endpoint.
  void Stop();

  // Pistache's own transport limit: above the app's body limit so that the app answers
  // 413 as problem+json for any body up to this size.
  static size_t TransportLimit(size_t max_body_bytes);

 private:
  core::HttpConfig config_;
  std::shared_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
  bool running_ = false;
};

}  // namespace clinicore::http
