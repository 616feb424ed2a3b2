#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/error.hpp"
#include "platform/http/request.hpp"

namespace clinicore::http {

struct FramerLimits {
  size_t max_head_bytes = 64 * 1024;  // request line and headers together
  size_t max_body_bytes = 1 << 20;    // the app's body limit: more is refused before it is read
  size_t max_headers = 100;
  size_t max_target_bytes = 8 * 1024;
};

// The request head as the application sees it: Pistache parses only a canonical copy.
struct FramedHead {
  Headers headers;                // lower-case names; repeated fields joined with ", "
  bool http10 = false;            // HTTP/1.0 (else HTTP/1.1)
  bool close_requested = false;   // the client will not send another request (RFC 9112 §9.3)
  bool expects_continue = false;  // "Expect: 100-continue"
};

// What the framer makes of the bytes fed so far, in order.
struct FramerEvent {
  enum class Kind {
    kStarted,   // a request line passed: hand `bytes` to the parser (its timeouts start to run)
    kContinue,  // the head asked for 100 Continue and the body will be read: send the interim answer
    kComplete,  // the request is whole: hand `bytes` to the parser, which then runs it with `head`
    kRefused,   // the bytes are not a request this server reads: answer `error`, then close
  };
  Kind kind;
  std::string bytes;
  FramedHead head;
  core::Error error;
};

// HTTP/1.1 message framing (RFC 9112) in front of Pistache's parser, which answers bytes it
// cannot parse in plain text, some with a 500, and others not at all. The framer reads the
// request line and headers itself, refuses what is malformed with an error that becomes a
// problem+json answer (then the connection closes: after a framing error the stream cannot be
// trusted), and hands Pistache only a canonical request it always parses:
// "METHOD target HTTP/1.x", one Content-Length and the body. The real headers travel beside
// it in FramedHead. Bodies over the limit are refused from Content-Length before they are
// read; chunked bodies are refused with 411. Requests are handed over one at a time, so
// pipelined requests are each answered. One framer per connection; not thread-safe.
class RequestFramer {
 public:
  explicit RequestFramer(FramerLimits limits) : limits_(limits) {}

  std::vector<FramerEvent> Feed(std::string_view data);
  // True once a refusal was returned or Stop was called: nothing more is read.
  bool stopped() const { return phase_ == Phase::kStopped; }
  // The connection closes after the answer in progress: what follows is never read.
  void Stop() { phase_ = Phase::kStopped; }
  // True while part of a request has arrived and the rest has not.
  bool mid_request() const { return phase_ == Phase::kHeaders || phase_ == Phase::kBody || !line_.empty(); }
  // Requests completed on this connection so far.
  long long completed() const { return completed_; }

 private:
  enum class Phase { kRequestLine, kHeaders, kBody, kStopped };

  void TakeLine(std::string_view line, std::vector<FramerEvent>& events);
  void TakeRequestLine(std::string_view line, std::vector<FramerEvent>& events);
  void TakeHeaderLine(std::string_view line, std::vector<FramerEvent>& events);
  void EndOfHead(std::vector<FramerEvent>& events);
  void Complete(std::vector<FramerEvent>& events);
  void Refuse(core::Error error, std::vector<FramerEvent>& events);
  void StartRequest();

  FramerLimits limits_;
  Phase phase_ = Phase::kRequestLine;
  std::string line_;       // bytes of a line not yet ended
  size_t head_bytes_ = 0;  // of the current head so far
  FramedHead head_;
  size_t header_count_ = 0;
  bool has_host_ = false;
  bool has_length_ = false;
  bool keep_alive_ = false;
  size_t content_length_ = 0;
  std::string body_;
  long long completed_ = 0;
};

}  // namespace clinicore::http
