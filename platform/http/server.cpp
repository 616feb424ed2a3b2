#include "platform/http/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "platform/core/log.hpp"

namespace clinicore::http {
namespace {

namespace P = Pistache;

Method FromPistache(P::Http::Method method) {
  switch (method) {
    case P::Http::Method::Get:
      return Method::kGet;
    case P::Http::Method::Head:
      return Method::kHead;
    case P::Http::Method::Post:
      return Method::kPost;
    case P::Http::Method::Put:
      return Method::kPut;
    case P::Http::Method::Patch:
      return Method::kPatch;
    case P::Http::Method::Delete:
      return Method::kDelete;
    case P::Http::Method::Options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

RawRequest ToRaw(const P::Http::Request& request) {
  RawRequest raw;
  raw.method = FromPistache(request.method());
  raw.path = request.resource();
  const auto& query = request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    std::string key;
    std::string value;
    // Query text arrives still percent-encoded; an undecodable value is kept as sent and
    // left for the handler's validation to refuse.
    if (!PercentDecode(it->first, key)) key = it->first;
    if (!PercentDecode(it->second, value)) value = it->second;
    raw.query[key] = value;
  }
  for (const auto& [name, header] : request.headers().rawList()) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    raw.headers[lower] = header.value();
  }
  raw.body = request.body();
  raw.peer_address = request.address().host();
  return raw;
}

// Pistache writes only typed headers (Collection::list()), never raw ones, so every header
// we send goes through this one pass-through type.
class PassThroughHeader : public P::Http::Header::Header {
 public:
  PassThroughHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)), hash_(P::Http::Header::detail::hash(name_.c_str())) {}
  const char* name() const override { return name_.c_str(); }
  uint64_t hash() const override { return hash_; }
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& stream) const override { stream << value_; }

 private:
  std::string name_;
  std::string value_;
  uint64_t hash_;
};

void Send(const RawResponse& raw, P::Http::ResponseWriter& writer) {
  for (const auto& [name, value] : raw.headers) {
    if (name == "Connection") {
      // Pistache reads its typed Connection header to decide whether to close the socket.
      writer.headers().add(std::make_shared<P::Http::Header::Connection>(P::Http::ConnectionControl::Close));
      continue;
    }
    writer.headers().add(std::make_shared<PassThroughHeader>(name, value));
  }
  writer.send(static_cast<P::Http::Code>(raw.status), raw.body);
}

class PistacheHandler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)

  explicit PistacheHandler(std::shared_ptr<Dispatcher> dispatcher) : dispatcher_(std::move(dispatcher)) {}

  void onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) override {
    try {
      Send(dispatcher_->Handle(ToRaw(request)), writer);
    } catch (const std::exception& e) {
      // The dispatcher never throws; this guards the conversion and the socket write.
      core::log::Error("http_transport_error", {{"what", e.what()}});
    }
  }

 private:
  std::shared_ptr<Dispatcher> dispatcher_;
};

}  // namespace

HttpServer::HttpServer(core::HttpConfig config, std::shared_ptr<Dispatcher> dispatcher)
    : config_(std::move(config)), dispatcher_(std::move(dispatcher)) {}

HttpServer::~HttpServer() {
  if (running_) endpoint_->shutdown();
}

size_t HttpServer::TransportLimit(size_t max_body_bytes) {
  constexpr size_t kHeadroom = 64 * 1024;      // request line and headers
  constexpr size_t kFloor = 32 * 1024 * 1024;  // so oversized uploads still get problem+json
  return std::max(max_body_bytes + kHeadroom, kFloor);
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
                       .bodyTimeout(config_.read_timeout);
    endpoint_->init(options);
    endpoint_->setHandler(P::Http::make_handler<PistacheHandler>(dispatcher_));
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
  while (dispatcher_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (dispatcher_->in_flight() > 0) {
    core::log::Warn("http_shutdown_grace_expired", {{"in_flight", dispatcher_->in_flight()}});
  }
  endpoint_->shutdown();
  running_ = false;
}

}  // namespace clinicore::http
