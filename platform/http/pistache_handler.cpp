#include "platform/http/pistache_handler.hpp"

#include <pistache/peer.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include "platform/core/log.hpp"
#include "platform/http/problem.hpp"
#include "platform/http/router.hpp"

namespace clinicore::http::detail {
namespace P = Pistache;

// Pistache 0.0.5 attaches a handler to its I/O thread's transport through a private member
// (Tcp::Handler::associateTransport, for Transport only). The RequestHandler behind each
// ConnectionHandler must share that transport, so it is attached the one way C++ allows
// naming a private member from outside: an explicit template instantiation. Nothing else of
// Pistache's internals is touched.
void AttachTransport(P::Tcp::Handler& handler, P::Tcp::Transport* transport);
template <void (P::Tcp::Handler::*Member)(P::Tcp::Transport*)>
struct TransportAttacher {
  friend void AttachTransport(P::Tcp::Handler& handler, P::Tcp::Transport* transport) { (handler.*Member)(transport); }
};
template struct TransportAttacher<&P::Tcp::Handler::associateTransport>;

namespace {

constexpr const char* kFramerData = "clinicore.framer";

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

// How an answer that says Connection: close ends its connection.
enum class Closing {
  kShutDown,     // shut the socket down once the answer is written (on the I/O thread only)
  kClientCloses  // leave it to the client; the framer reads nothing more, the idle scan reaps it
};

// Shuts the connection down once what was queued before is written. Only for answers sent
// from the connection's own I/O thread: the transport always queues writes, so the
// continuation is attached before the write and runs on that thread right after it, while
// the descriptor is still this peer's. From another thread the write may already be done when
// the continuation is attached, which would then run at once on that thread, possibly after
// the client closed and its descriptor number went to a new connection.
void ShutDownAfterWrite(P::Async::Promise<ssize_t>& written, std::shared_ptr<P::Tcp::Peer> peer) {
  if (!peer) return;
  written.then([peer](ssize_t) { ::shutdown(peer->fd(), SHUT_RDWR); }, [](std::exception_ptr) {});
}

bool SaysClose(const RawResponse& response) {
  auto connection = response.Header("Connection");
  if (!connection) return false;
  std::string lower = *connection;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "close";
}

// Sends a response with the Connection header this server decided; when `close` (or the
// response says Connection: close) the connection ends as `closing` says. `until_written` is
// the dispatcher's hold (HoldUntilWritten), taken by the caller before it made the answer:
// taken only here, a Stop() could find nothing in flight between the handler's return and the
// write, and shut the transport down under the answer.
void SendResponse(std::shared_ptr<void> until_written, const RawResponse& response, P::Http::ResponseWriter& writer,
                  bool close, Closing closing) {
  close = close || SaysClose(response);
  // Pistache put a Connection header of its own (copied from the request); ours replaces it.
  writer.headers().remove<P::Http::Header::Connection>();
  writer.headers().add<P::Http::Header::Connection>(close ? P::Http::ConnectionControl::Close
                                                          : P::Http::ConnectionControl::KeepAlive);
  for (const auto& [name, value] : response.headers) {
    if (name != "Connection") writer.headers().add(std::make_shared<PassThroughHeader>(name, value));
  }
  auto peer = close ? writer.getPeer() : nullptr;
  // The write ends on Pistache's I/O thread after this returns: until the transport settles or
  // drops it (releasing the continuation and its token), a Stop() keeps waiting.
  auto written = writer.send(static_cast<P::Http::Code>(response.status), response.body);
  written.then([until_written](ssize_t) {}, [until_written](std::exception_ptr) {});
  if (close && closing == Closing::kShutDown) ShutDownAfterWrite(written, std::move(peer));
}

void Answer(const HandlerSettings& settings, const RawRequest& raw, P::Http::ResponseWriter& writer, bool close,
            Closing closing) {
  try {
    auto until_written = settings.dispatcher->HoldUntilWritten();
    SendResponse(std::move(until_written), settings.dispatcher->Handle(raw), writer, close, closing);
  } catch (const std::exception& e) {
    // The dispatcher never throws; this guards the conversion and the socket write.
    core::log::Error("http_transport_error", {{"what", e.what()}});
  }
}

// A request waiting for the hashing pool: the writer moves with it.
struct Deferred {
  RawRequest raw;
  P::Http::ResponseWriter writer;
};

}  // namespace

RawRequest ToRawRequest(const P::Http::Request& request, const FramedHead& head) {
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
  raw.headers = head.headers;
  raw.body = request.body();
  raw.peer_address = request.address().host();
  return raw;
}

std::string SerializeClosingResponse(const RawResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + ReasonPhrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (name != "Connection") out += name + ": " + value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n";
  out += response.body;
  return out;
}

void RequestHandler::onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) {
  deferred_ = false;
  if (head_ == nullptr) return;  // cannot happen: only ConnectionHandler feeds the parser
  RawRequest raw = ToRawRequest(request, *head_);
  if (!settings_->hash_pool || !settings_->dispatcher->RunsOffIoThreads(raw)) {
    Answer(*settings_, raw, writer, close_after_, Closing::kShutDown);
    return;
  }
  // Password hashing would stall this I/O thread and every connection on it: the pool runs
  // it, and a full pool is a quick 503 instead of a queue without bound.
  auto deferred = std::make_shared<Deferred>(Deferred{std::move(raw), std::move(writer)});
  auto settings = settings_;
  const bool queued = settings_->hash_pool->TrySubmit([settings, deferred] {
    Answer(*settings, deferred->raw, deferred->writer, /*close=*/true, Closing::kClientCloses);
  });
  deferred_ = queued;
  if (!queued) {  // answered here, in order: the connection may go on
    core::Error busy = core::Error::Unavailable("The server is busy signing people in; retry in a moment.");
    busy.retry_after_seconds = 1;
    auto until_written = settings_->dispatcher->HoldUntilWritten();
    SendResponse(std::move(until_written), settings_->dispatcher->Reject(busy, deferred->raw), deferred->writer,
                 close_after_, Closing::kShutDown);
  }
}

ConnectionHandler::ConnectionHandler(std::shared_ptr<const HandlerSettings> settings)
    : settings_(std::move(settings)), requests_(std::make_shared<RequestHandler>(settings_)) {}

ConnectionHandler::ConnectionHandler(const ConnectionHandler& other)
    : P::Http::Handler(other), settings_(other.settings_), requests_(std::make_shared<RequestHandler>(settings_)) {
  requests_->setMaxRequestSize(other.getMaxRequestSize());
  requests_->setMaxResponseSize(other.getMaxResponseSize());
}

void ConnectionHandler::onConnection(const std::shared_ptr<P::Tcp::Peer>& peer) {
  if (!requests_attached_) {
    AttachTransport(*requests_, transport());
    requests_attached_ = true;
  }
  // Http::Handler's own onConnection (private) would make this parser; the transport's
  // timeout checks read it, and RequestHandler parses with it.
  peer->putData(ParserData, std::make_shared<P::Http::RequestParser>(getMaxRequestSize()));
  peer->putData(kFramerData, std::make_shared<RequestFramer>(settings_->limits));
}

void ConnectionHandler::onInput(const char* buffer, size_t length, const std::shared_ptr<P::Tcp::Peer>& peer) {
  auto framer = std::static_pointer_cast<RequestFramer>(peer->tryGetData(kFramerData));
  if (!framer || framer->stopped()) return;
  P::Tcp::Handler& parser_side = *requests_;  // Http::Handler::onInput, reached through its public base
  for (auto& event : framer->Feed(std::string_view(buffer, length))) {
    switch (event.kind) {
      case FramerEvent::Kind::kStarted:
        requests_->Expect(nullptr, false);
        parser_side.onInput(event.bytes.data(), event.bytes.size(), peer);
        break;
      case FramerEvent::Kind::kContinue: {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        peer->send(P::RawBuffer(kContinue, kContinue.size()));
        break;
      }
      case FramerEvent::Kind::kComplete: {
        const int max = settings_->max_requests_per_connection;
        const bool last = event.head.close_requested || (max > 0 && framer->completed() >= max);
        requests_->Expect(&event.head, last);
        parser_side.onInput(event.bytes.data(), event.bytes.size(), peer);
        requests_->Expect(nullptr, false);
        if (last || requests_->deferred()) {
          framer->Stop();  // the answer closes the connection; what follows is never read
          return;
        }
        break;
      }
      case FramerEvent::Kind::kRefused:
        Refuse(event.error, peer);
        return;
    }
  }
  // A request under way that Pistache has not seen a byte of yet (a partial request line)
  // would look idle to its timeout scan, which closes idle connections only after the long
  // keep-alive timeout: mark it busy so the read timeout (408, then close) applies.
  if (framer->mid_request()) peer->setIdle(false);
}

void ConnectionHandler::Refuse(const core::Error& error, const std::shared_ptr<P::Tcp::Peer>& peer) {
  RawRequest unparsed;
  unparsed.peer_address = peer->address().host();
  const std::string bytes = SerializeClosingResponse(settings_->dispatcher->Reject(error, unparsed));
  auto written = peer->send(P::RawBuffer(bytes, bytes.size()));
  ShutDownAfterWrite(written, peer);  // on the I/O thread: see ShutDownAfterWrite
}

}  // namespace clinicore::http::detail
