#pragma once

// The Pistache side of the HTTP server (internal to platform/http; server.cpp and the
// request fuzzer use it). Two handlers per I/O thread:
//  - ConnectionHandler is the one Pistache calls: it runs each connection's RequestFramer
//    over the raw bytes, answers what the framer refuses as problem+json itself and closes,
//    and hands Pistache's parser only canonical requests;
//  - RequestHandler receives the parsed request from Pistache and answers it through the
//    Dispatcher, with keep-alive decided here (Pistache 0.0.5 never closes a connection).
// docs/decisions/0009-http-edge.md says why.

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <memory>

#include "platform/core/bounded_pool.hpp"
#include "platform/http/dispatcher.hpp"
#include "platform/http/request_framer.hpp"

namespace clinicore::http::detail {

struct HandlerSettings {
  std::shared_ptr<Dispatcher> dispatcher;
  std::shared_ptr<core::BoundedPool> hash_pool;  // routes marked cpu_heavy run here
  FramerLimits limits;
  int max_requests_per_connection = 0;  // 0: unlimited
};

// The request as the Dispatcher sees it: path and query from Pistache's parse of the
// canonical request line, headers from the framer (Pistache never parses them).
RawRequest ToRawRequest(const Pistache::Http::Request& request, const FramedHead& head);

// A response as bytes on the wire, for answers written without a ResponseWriter (framing
// refusals): status line, headers, Content-Length, Connection: close.
std::string SerializeClosingResponse(const RawResponse& response);

class RequestHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)
  explicit RequestHandler(std::shared_ptr<const HandlerSettings> settings) : settings_(std::move(settings)) {}

  // The framed head of the request Pistache is about to parse, and whether the connection
  // closes after its answer. Set by ConnectionHandler on the same thread just before.
  void Expect(const FramedHead* head, bool close_after) {
    head_ = head;
    close_after_ = close_after;
  }
  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter writer) override;
  // The last request went to the hashing pool. Its answer closes the connection: a later
  // request on it could otherwise be answered first, out of order.
  bool deferred() const { return deferred_; }

 private:
  std::shared_ptr<const HandlerSettings> settings_;
  const FramedHead* head_ = nullptr;
  bool close_after_ = false;
  bool deferred_ = false;
};

class ConnectionHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(ConnectionHandler)
  explicit ConnectionHandler(std::shared_ptr<const HandlerSettings> settings);
  // Each I/O thread's clone gets a RequestHandler of its own.
  ConnectionHandler(const ConnectionHandler& other);

  void onRequest(const Pistache::Http::Request&, Pistache::Http::ResponseWriter) override {}  // never called
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t length, const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

 private:
  void Refuse(const core::Error& error, const std::shared_ptr<Pistache::Tcp::Peer>& peer);

  std::shared_ptr<const HandlerSettings> settings_;
  std::shared_ptr<RequestHandler> requests_;
  bool requests_attached_ = false;
};

}  // namespace clinicore::http::detail
