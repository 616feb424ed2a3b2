// The HTTP edge over real sockets: framing refusals answered as problem+json, persistent
// connections per RFC 9112 §9.3, pipelining, 100-continue, the hashing pool's bound, and the
// split listeners. Every wait is for a condition (a response, a close), bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "platform/core/log.hpp"
#include "platform/http/server.hpp"
#include "tests/harness/harness.hpp"

namespace clinicore::http {
namespace {

using std::chrono::milliseconds;

// One client connection that reads whole responses (by Content-Length) and tells whether
// the server closed it.
class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

  // The next whole response (head and body), or "" when none came within the timeout.
  std::string ReadResponse(milliseconds timeout = milliseconds(10'000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto end_of_head = buffer_.find("\r\n\r\n");
      if (end_of_head != std::string::npos) {
        const size_t length = ContentLength(buffer_.substr(0, end_of_head));
        const size_t total = end_of_head + 4 + length;
        if (buffer_.size() >= total) {
          std::string response = buffer_.substr(0, total);
          buffer_.erase(0, total);
          return response;
        }
      }
      if (!Fill(deadline)) return "";
    }
  }

  // True when the server closes the connection within the timeout (nothing more arrives).
  bool ClosedByServer(milliseconds timeout = milliseconds(10'000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    return eof_;
  }

 private:
  static size_t ContentLength(const std::string& head) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto at = lower.find("content-length:");
    return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
  }

  // Reads what is there; false on timeout or end of stream.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[8192];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string BodyOf(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

std::string HeaderOf(const std::string& response, const std::string& name) {
  std::string lower = response.substr(0, response.find("\r\n\r\n"));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 3;
  const auto end = lower.find("\r\n", start);
  std::string value = lower.substr(start, end - start);
  value.erase(0, value.find_first_not_of(' '));
  return value;
}

class HttpEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::log::Init("warn");
    router_->Add(Method::kGet, "/ping", [](RequestContext&) -> core::Result<Response> {
      return Response::Json(200, {{"pong", true}});
    });
    router_->Add(Method::kPost, "/echo",
                 [](RequestContext& context) -> core::Result<Response> { return Response::Json(200, context.body); },
                 {.json_body = true});
    // Stands for a sign-in: it holds a hashing thread until the test releases it.
    router_->Add(Method::kPost, "/hash",
                 [this](RequestContext&) -> core::Result<Response> {
                   hashing_started_.fetch_add(1);
                   release_.wait();
                   return Response::Json(200, {{"hashed", true}});
                 },
                 {.cpu_heavy = true});
    router_->Add(Method::kPost, "/hash-quick",
                 [](RequestContext&) -> core::Result<Response> {
                   return Response::Json(200, {{"hashed", true}});
                 },
                 {.cpu_heavy = true});
    router_->Add(Method::kGet, "/metrics",
                 [](RequestContext&) -> core::Result<Response> { return Response::Text(200, "text/plain", "m 1\n"); },
                 {.plane = Plane::kOps});
    router_->Add(Method::kGet, "/healthz",
                 [](RequestContext&) -> core::Result<Response> {
                   return Response::Json(200, {{"status", "alive"}});
                 },
                 {.plane = Plane::kEvery});
  }
  void TearDown() override {
    release_promise_.set_value();
    if (server_) server_->Stop();
  }

  void Start(int max_requests = 0, milliseconds keepalive = milliseconds(60'000)) {
    core::HttpConfig config;
    config.address = "127.0.0.1";
    config.port = 0;
    config.threads = 2;
    config.max_body_bytes = 64 * 1024;
    config.read_timeout = milliseconds(2'000);
    config.keepalive_timeout = keepalive;
    config.max_requests_per_connection = max_requests;
    config.shutdown_grace = std::chrono::seconds(5);
    server_ =
        std::make_unique<HttpServer>(config, std::make_shared<Dispatcher>(router_, metrics_, 64 * 1024), hash_pool_);
    ASSERT_TRUE(server_->Start().ok());
  }

  std::shared_ptr<Router> router_ = std::make_shared<Router>();
  std::shared_ptr<core::Metrics> metrics_ = std::make_shared<core::Metrics>();
  std::shared_ptr<core::BoundedPool> hash_pool_ = std::make_shared<core::BoundedPool>(1, 2);
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> hashing_started_{0};
  std::promise<void> release_promise_;
  std::shared_future<void> release_ = release_promise_.get_future().share();
};

constexpr const char* kPing = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(HttpEdgeTest, Http11KeepsTheConnectionUnlessTheClientAsksToClose) {
  Start();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    client.Send(kPing);
    const std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 200);
    EXPECT_EQ(HeaderOf(response, "connection"), "keep-alive");
  }
  client.Send("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string last = client.ReadResponse();
  EXPECT_EQ(StatusOf(last), 200);
  EXPECT_EQ(HeaderOf(last, "connection"), "close");
  EXPECT_TRUE(client.ClosedByServer()) << "Connection: close is honoured, not only written";
}

TEST_F(HttpEdgeTest, Http10ClosesUnlessItAsksForKeepAlive) {
  Start();
  Client plain(server_->port());
  plain.Send("GET /ping HTTP/1.0\r\n\r\n");
  EXPECT_EQ(StatusOf(plain.ReadResponse()), 200);
  EXPECT_TRUE(plain.ClosedByServer());

  Client keep(server_->port());
  keep.Send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(HeaderOf(keep.ReadResponse(), "connection"), "keep-alive");
  keep.Send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(StatusOf(keep.ReadResponse()), 200) << "the same connection served a second request";
}

TEST_F(HttpEdgeTest, AConnectionServesAtMostTheConfiguredNumberOfRequests) {
  Start(/*max_requests=*/3);
  Client client(server_->port());
  for (int i = 1; i <= 3; ++i) {
    client.Send(kPing);
    const std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 200);
    EXPECT_EQ(HeaderOf(response, "connection"), i < 3 ? "keep-alive" : "close") << i;
  }
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpEdgeTest, AnIdleConnectionIsClosedAfterTheKeepAliveTimeout) {
  Start(0, milliseconds(300));
  Client client(server_->port());
  client.Send(kPing);
  EXPECT_EQ(StatusOf(client.ReadResponse()), 200);
  EXPECT_TRUE(client.ClosedByServer(milliseconds(10'000)));
}

TEST_F(HttpEdgeTest, APartialRequestLineGets408AtTheReadTimeoutNotTheKeepAliveOne) {
  Start();  // read timeout 2 s, keep-alive timeout 60 s
  Client client(server_->port());
  client.Send(kPing);  // a first request: the connection is now a kept one
  ASSERT_EQ(StatusOf(client.ReadResponse()), 200);
  client.Send("GET /pi");  // and then a request line that never ends
  EXPECT_EQ(StatusOf(client.ReadResponse(milliseconds(30'000))), 408) << "within the read timeout's scan";
  EXPECT_TRUE(client.ClosedByServer());
}

TEST_F(HttpEdgeTest, PipelinedRequestsAreEachAnsweredInOrder) {
  Start();
  Client client(server_->port());
  client.Send(std::string(kPing) +
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Content-Length: 7\r\n\r\n{\"n\":2}" +
              kPing);
  EXPECT_EQ(BodyOf(client.ReadResponse()), R"({"pong":true})");
  EXPECT_EQ(BodyOf(client.ReadResponse()), R"({"n":2})");
  EXPECT_EQ(BodyOf(client.ReadResponse()), R"({"pong":true})");
}

TEST_F(HttpEdgeTest, BytesThatAreNotARequestGetAProblemAndTheConnectionCloses) {
  Start();
  struct Case {
    std::string bytes;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, "request_line"},
      {"GET /ping HTTP/1.1\r\nBad Header\r\n\r\n", 400, "headers"},
      {"GET /ping HTTP/1.1\r\nHost: x:abc\r\n\r\n", 400, "Host"},
      {"GET /ping HTTP/1.1\r\nHost: x:99999\r\n\r\n", 400, "Host"},
      {"GET /ping HTTP/2.0\r\nHost: x\r\n\r\n", 400, "version"},
      {"get /ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"},
      {"GET /ping HTTP/1.1\r\n\r\n", 400, "Host"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "Content-Length"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "Content-Length"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "Transfer-Encoding"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", 413, "body"},
      {"GET /ping HTTP/1.1\r\nHost: x\r\nA: " + std::string(70 * 1024, 'a') + "\r\n\r\n", 431, "headers"},
  };
  for (const auto& c : cases) {
    Client client(server_->port());
    client.Send(c.bytes);
    const std::string response = client.ReadResponse();
    ASSERT_EQ(StatusOf(response), c.status) << ::testing::PrintToString(c.bytes.substr(0, 60)) << "\n" << response;
    EXPECT_EQ(HeaderOf(response, "content-type"), "application/problem+json");
    const auto body = nlohmann::json::parse(BodyOf(response));
    EXPECT_EQ(body["errors"][0]["field"], c.field);
    EXPECT_EQ(body["request_id"], HeaderOf(response, "x-request-id"));
    EXPECT_TRUE(client.ClosedByServer()) << c.field;
  }
  EXPECT_EQ(testing::Http("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + "/ping").status, 200);
}

TEST_F(HttpEdgeTest, ExpectContinueGetsTheInterimAnswerBeforeTheBody) {
  Start();
  Client client(server_->port());
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Content-Length: 8\r\n\r\n");
  EXPECT_EQ(StatusOf(client.ReadResponse()), 100);
  client.Send("{\"a\":1}\n");
  const std::string response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_EQ(BodyOf(response), R"({"a":1})");
}

TEST_F(HttpEdgeTest, HashingRoutesRunOffTheIoThreadsAndAFullQueueIsA503WithRetryAfter) {
  Start();
  // One hashing thread, two places in its queue: the first request runs, two wait.
  std::vector<std::unique_ptr<Client>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::make_unique<Client>(server_->port()));
    waiting.back()->Send("POST /hash HTTP/1.1\r\nHost: x\r\n\r\n");
    if (i == 0) {
      ASSERT_TRUE(testing::WaitFor([&] { return hashing_started_.load() == 1; }, milliseconds(10'000)));
    }
  }
  ASSERT_TRUE(testing::WaitFor([&] { return hash_pool_->pending() == 3; }, milliseconds(10'000)));
  // The pool is full: a fourth request is refused at once, and the I/O threads stay free.
  Client probe(server_->port());
  probe.Send("POST /hash HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string refused = probe.ReadResponse(milliseconds(5'000));
  EXPECT_EQ(StatusOf(refused), 503);
  EXPECT_EQ(HeaderOf(refused, "retry-after"), "1");
  EXPECT_EQ(HeaderOf(refused, "content-type"), "application/problem+json");
  EXPECT_EQ(HeaderOf(refused, "connection"), "keep-alive") << "a refusal answered at once keeps its connection";
  Client ping(server_->port());
  ping.Send(kPing);
  EXPECT_EQ(StatusOf(ping.ReadResponse(milliseconds(5'000))), 200);
  release_promise_.set_value();
  release_promise_ = std::promise<void>();
  for (auto& client : waiting) {
    const std::string response = client->ReadResponse();
    EXPECT_EQ(StatusOf(response), 200);
    EXPECT_EQ(HeaderOf(response, "connection"), "close") << "a hashing request's answer closes its connection";
  }
}

TEST_F(HttpEdgeTest, AnAnswerFromTheHashingPoolNeverClosesSomeoneElsesConnection) {
  // The pool's answers used to shut their socket down from the (niced) pool thread, which
  // can run after the client closed and its descriptor number went to the next connection;
  // a full-suite run lost answers that way (status 0). The race needs an unlucky schedule, so
  // this loop is a stress check of it, not a deterministic reproduction.
  Start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(testing::Http("POST", base + "/hash-quick").status, 200) << i;
    ASSERT_EQ(testing::Http("GET", base + "/ping").status, 200) << i;
  }
}

TEST_F(HttpEdgeTest, SplitListenersServeOnlyTheirRoutes) {
  auto api = std::make_shared<Dispatcher>(router_, metrics_, 1024);
  api->ServeListeners({Listener::kApi});
  auto ops = std::make_shared<Dispatcher>(router_, metrics_, 1024);
  ops->ServeListeners({Listener::kOps});
  RawRequest metrics;
  metrics.path = "/metrics";
  RawRequest health;
  health.path = "/healthz";
  RawRequest ping;
  ping.path = "/ping";
  EXPECT_EQ(api->Handle(metrics).status, 404) << "/metrics is not public once an ops listener exists";
  EXPECT_EQ(ops->Handle(metrics).status, 200);
  EXPECT_EQ(ops->Handle(ping).status, 404);
  EXPECT_EQ(api->Handle(health).status, 200);
  EXPECT_EQ(ops->Handle(health).status, 200);
}

}  // namespace
}  // namespace clinicore::http
