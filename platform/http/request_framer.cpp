#include "platform/http/request_framer.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace clinicore::http {
namespace {

using core::Error;
using core::ErrorCode;

constexpr std::array<std::string_view, 7> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

Error Malformed(const std::string& field, const std::string& detail, const std::string& message) {
  return Error::InvalidArgument(detail, {{field, message}});
}

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return IsTokenChar(c); });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The request-target in origin form ("/path?query"): no space or control byte, no more
// than the limit. Bytes past ASCII go on, for the dispatcher's UTF-8 check to judge.
bool IsOriginForm(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  return std::none_of(target.begin(), target.end(), [](unsigned char c) { return c < 0x21 || c == 0x7F; });
}

// Host = uri-host [ ":" port ] (RFC 9110 §7.2); empty is allowed for origin-form requests.
bool IsHostValue(std::string_view host) {
  if (host.empty()) return true;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const auto inside = host.substr(1, close - 1);
    if (!std::all_of(inside.begin(), inside.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0 || c == ':' || c == '.'; })) {
      return false;
    }
    name = {};
    const auto rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    const auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (name.empty()) return false;
    if (std::any_of(name.begin(), name.end(), [](unsigned char c) {
          return c <= 0x20 || c == 0x7F ||
                 std::string_view("[]:/?#@\\").find(static_cast<char>(c)) != std::string_view::npos;
        })) {
      return false;
    }
  }
  if (port.empty()) return true;
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return false;
  }
  return std::stoi(std::string(port)) <= 65535;
}

bool ParseLength(std::string_view text, size_t& out) {
  if (text.empty() || text.size() > 18) return false;
  size_t value = 0;
  for (unsigned char c : text) {
    if (!std::isdigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

}  // namespace

std::vector<FramerEvent> RequestFramer::Feed(std::string_view data) {
  std::vector<FramerEvent> events;
  while (!data.empty() && phase_ != Phase::kStopped) {
    if (phase_ == Phase::kBody) {
      const size_t take = std::min(content_length_ - body_.size(), data.size());
      body_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (body_.size() == content_length_) Complete(events);
      continue;
    }
    const auto newline = data.find('\n');
    const size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
    if (head_bytes_ + line_.size() + take > limits_.max_head_bytes) {
      Refuse({ErrorCode::kHeadersTooLarge,
              "The request line and headers exceed " + std::to_string(limits_.max_head_bytes) + " bytes.",
              {},
              {{"headers", "larger than " + std::to_string(limits_.max_head_bytes) + " bytes"}}},
             events);
      break;
    }
    line_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (newline == std::string_view::npos) break;
    std::string line = std::move(line_);
    line_.clear();
    head_bytes_ += line.size();
    TakeLine(line, events);
  }
  return events;
}

void RequestFramer::TakeLine(std::string_view line, std::vector<FramerEvent>& events) {
  // Every line ends with CRLF, and a lone CR inside a line is never data (RFC 9112 §2.2).
  if (line.size() < 2 || line[line.size() - 2] != '\r' || line.substr(0, line.size() - 2).find('\r') != line.npos) {
    Refuse(Malformed("headers", "Lines of the request must end with CRLF.", "a line does not end with CRLF"), events);
    return;
  }
  line.remove_suffix(2);
  if (phase_ == Phase::kRequestLine) {
    TakeRequestLine(line, events);
  } else {
    TakeHeaderLine(line, events);
  }
}

void RequestFramer::TakeRequestLine(std::string_view line, std::vector<FramerEvent>& events) {
  if (line.empty()) return;  // a client may send CRLF before a request line (RFC 9112 §2.2)
  const auto first = line.find(' ');
  const auto second = first == line.npos ? line.npos : line.find(' ', first + 1);
  if (second == line.npos || line.find(' ', second + 1) != line.npos) {
    Refuse(Malformed("request_line", "The request line must be 'METHOD /path HTTP/1.1'.",
                     "is not METHOD SP target SP version"),
           events);
    return;
  }
  const auto method = line.substr(0, first);
  const auto target = line.substr(first + 1, second - first - 1);
  const auto version = line.substr(second + 1);
  if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) {
    Refuse(Malformed("method",
                     "The method is not one this server supports (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS).",
                     "is not supported"),
           events);
    return;
  }
  if (target.size() > limits_.max_target_bytes) {
    Refuse(Malformed("path", "The request target exceeds " + std::to_string(limits_.max_target_bytes) + " bytes.",
                     "longer than " + std::to_string(limits_.max_target_bytes) + " bytes"),
           events);
    return;
  }
  if (!IsOriginForm(target)) {
    Refuse(
        Malformed("path", "The request target must be a path starting with '/', without spaces or control characters.",
                  "must be a path starting with '/'"),
        events);
    return;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    Refuse(Malformed("version", "This server speaks HTTP/1.1 and HTTP/1.0.", "must be HTTP/1.1 or HTTP/1.0"), events);
    return;
  }
  head_.http10 = version == "HTTP/1.0";
  phase_ = Phase::kHeaders;
  events.push_back({FramerEvent::Kind::kStarted, std::string(line) + "\r\n", {}, {}});
}

void RequestFramer::TakeHeaderLine(std::string_view line, std::vector<FramerEvent>& events) {
  if (line.empty()) {
    EndOfHead(events);
    return;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    Refuse(Malformed("headers", "Header lines may not be folded (obsolete line folding).", "a folded header line"),
           events);
    return;
  }
  const auto colon = line.find(':');
  if (colon == line.npos || !IsToken(line.substr(0, colon))) {
    Refuse(
        Malformed("headers", "A header line must be 'Name: value' with a token for a name.", "a malformed header line"),
        events);
    return;
  }
  if (++header_count_ > limits_.max_headers) {
    Refuse({ErrorCode::kHeadersTooLarge,
            "The request has more than " + std::to_string(limits_.max_headers) + " header lines.",
            {},
            {{"headers", "more than " + std::to_string(limits_.max_headers) + " header lines"}}},
           events);
    return;
  }
  const std::string name = Lower(line.substr(0, colon));
  const std::string_view value = TrimOws(line.substr(colon + 1));
  if (name == "transfer-encoding") {
    Refuse({ErrorCode::kLengthRequired,
            "Send the body with a Content-Length; transfer codings (chunked) are not accepted.",
            {},
            {{"Transfer-Encoding", "is not accepted; send Content-Length"}}},
           events);
    return;
  }
  if (name == "content-length") {
    size_t length = 0;
    if (!ParseLength(value, length) || (has_length_ && length != content_length_)) {
      Refuse(Malformed("Content-Length", "Content-Length must be one whole number of bytes.", "must be a whole number"),
             events);
      return;
    }
    has_length_ = true;
    content_length_ = length;
  } else if (name == "host") {
    if (has_host_ || !IsHostValue(value)) {
      Refuse(Malformed("Host", "The Host header must be one host name or address with an optional port.",
                       "must be one host[:port]"),
             events);
      return;
    }
    has_host_ = true;
  } else if (name == "connection") {
    for (size_t start = 0; start <= value.size();) {
      const auto comma = std::min(value.find(',', start), value.size());
      const std::string option = Lower(TrimOws(value.substr(start, comma - start)));
      if (option == "close") head_.close_requested = true;
      if (option == "keep-alive") keep_alive_ = true;
      start = comma + 1;
    }
  } else if (name == "expect") {
    head_.expects_continue = Lower(value) == "100-continue";
  }
  auto [it, inserted] = head_.headers.emplace(name, std::string(value));
  if (!inserted) it->second += ", " + std::string(value);
}

void RequestFramer::EndOfHead(std::vector<FramerEvent>& events) {
  if (!head_.http10 && !has_host_) {
    Refuse(Malformed("Host", "An HTTP/1.1 request must carry a Host header.", "is required"), events);
    return;
  }
  // HTTP/1.0 closes after each answer unless the client asked to keep the connection.
  if (head_.http10 && !keep_alive_) head_.close_requested = true;
  if (content_length_ > limits_.max_body_bytes) {
    Refuse({ErrorCode::kPayloadTooLarge,
            "The request body has " + std::to_string(content_length_) + " bytes; the limit is " +
                std::to_string(limits_.max_body_bytes) + ".",
            {},
            {{"body", "larger than " + std::to_string(limits_.max_body_bytes) + " bytes"}}},
           events);
    return;
  }
  if (content_length_ == 0) {
    Complete(events);
    return;
  }
  if (head_.expects_continue) events.push_back({FramerEvent::Kind::kContinue, {}, {}, {}});
  body_.reserve(content_length_);
  phase_ = Phase::kBody;
}

void RequestFramer::Complete(std::vector<FramerEvent>& events) {
  std::string bytes = "Content-Length: " + std::to_string(content_length_) + "\r\n\r\n";
  bytes += body_;
  events.push_back({FramerEvent::Kind::kComplete, std::move(bytes), std::move(head_), {}});
  ++completed_;
  StartRequest();
}

void RequestFramer::Refuse(Error error, std::vector<FramerEvent>& events) {
  phase_ = Phase::kStopped;
  events.push_back({FramerEvent::Kind::kRefused, {}, {}, std::move(error)});
}

void RequestFramer::StartRequest() {
  phase_ = Phase::kRequestLine;
  line_.clear();
  head_bytes_ = 0;
  head_ = FramedHead{};
  header_count_ = 0;
  has_host_ = false;
  has_length_ = false;
  keep_alive_ = false;
  content_length_ = 0;
  body_.clear();
  body_.shrink_to_fit();
}

}  // namespace clinicore::http
