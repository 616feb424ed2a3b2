#include "platform/http/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <algorithm>
#include <thread>

#include "platform/core/log.hpp"
#include "platform/http/pistache_handler.hpp"

namespace clinicore::http {
namespace P = Pistache;

HttpServer::HttpServer(core::HttpConfig config, std::shared_ptr<Dispatcher> dispatcher,
                       std::shared_ptr<core::BoundedPool> hash_pool)
    : config_(std::move(config)), dispatcher_(std::move(dispatcher)), hash_pool_(std::move(hash_pool)) {}

HttpServer::~HttpServer() {
  if (running_) endpoint_->shutdown();
}

size_t HttpServer::TransportLimit(size_t max_body_bytes) {
  // Pistache parses only the framer's canonical request (request line, Content-Length,
  // body); the framer refuses bigger bodies from their Content-Length before reading them.
  constexpr size_t kHeadroom = 64 * 1024;
  return max_body_bytes + kHeadroom;
}

core::Status HttpServer::Start() {
  try {
    P::Address address(config_.address, P::Port(config_.port));
    endpoint_ = std::make_unique<P::Http::Endpoint>(address);
    auto options = P::Http::Endpoint::options()
                       .threads(config_.threads)
                       .flags(P::Tcp::Options::ReuseAddr)
                       .maxRequestSize(TransportLimit(config_.max_body_bytes))
                       .maxResponseSize(64 * 1024 * 1024)
                       .headerTimeout(config_.read_timeout)
                       .bodyTimeout(config_.read_timeout)
                       .keepaliveTimeout(config_.keepalive_timeout);
    endpoint_->init(options);
    auto settings = std::make_shared<detail::HandlerSettings>();
    settings->dispatcher = dispatcher_;
    settings->hash_pool = hash_pool_;
    settings->limits.max_body_bytes = config_.max_body_bytes;
    settings->max_requests_per_connection = config_.max_requests_per_connection;
    endpoint_->setHandler(P::Http::make_handler<detail::ConnectionHandler>(std::move(settings)));
    endpoint_->serveThreaded();
    running_ = true;
  } catch (const std::exception& e) {
    return core::Error::Unavailable("cannot listen on " + config_.address + ":" + std::to_string(config_.port),
                                    e.what());
  }
  return core::Ok();
}

uint16_t HttpServer::port() const {
  return endpoint_ ? static_cast<uint16_t>(endpoint_->getPort()) : 0;
}

void HttpServer::Stop() {
  if (!running_) return;
  dispatcher_->BeginDrain();
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
  auto busy = [&] { return dispatcher_->in_flight() > 0 || (hash_pool_ && hash_pool_->pending() > 0); };
  while (busy() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (dispatcher_->in_flight() > 0) {
    core::log::Warn("http_shutdown_grace_expired", {{"in_flight", dispatcher_->in_flight()}});
  }
  endpoint_->shutdown();
  running_ = false;
}

}  // namespace clinicore::http
