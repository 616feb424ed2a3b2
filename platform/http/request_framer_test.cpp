#include "platform/http/request_framer.hpp"

#include <gtest/gtest.h>

namespace clinicore::http {
namespace {

using Kind = FramerEvent::Kind;

class RequestFramerTest : public ::testing::Test {
 protected:
  std::vector<FramerEvent> Feed(std::string_view bytes) { return framer_.Feed(bytes); }

  // The refusal the bytes end in: its HTTP-facing field name ("" when there is none).
  std::string RefusedField(std::string_view bytes) {
    RequestFramer framer(limits_);
    for (const auto& event : framer.Feed(bytes)) {
      if (event.kind == Kind::kRefused) return event.error.fields.empty() ? "?" : event.error.fields[0].field;
    }
    return "";
  }

  FramerLimits limits_{.max_head_bytes = 1024, .max_body_bytes = 64, .max_headers = 8, .max_target_bytes = 128};
  RequestFramer framer_{limits_};
};

TEST_F(RequestFramerTest, AWholeRequestIsHandedOverInCanonicalFormWithItsHeadersBeside) {
  auto events = Feed(
      "POST /v1/items?x=1 HTTP/1.1\r\nHost: demo.localhost:8080\r\nContent-Type: application/json\r\n"
      "X-Tenant:  demo \r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::kStarted);
  EXPECT_EQ(events[0].bytes, "POST /v1/items?x=1 HTTP/1.1\r\n");
  EXPECT_EQ(events[1].kind, Kind::kComplete);
  EXPECT_EQ(events[1].bytes, "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(events[1].head.headers.at("x-tenant"), "demo") << "optional white space is trimmed";
  EXPECT_EQ(events[1].head.headers.at("content-type"), "application/json");
  EXPECT_FALSE(events[1].head.close_requested);
  EXPECT_EQ(framer_.completed(), 1);
}

TEST_F(RequestFramerTest, BytesArrivingOneAtATimeMakeTheSameRequest) {
  const std::string request = "GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nA: 2\r\n\r\n";
  std::vector<FramerEvent> events;
  for (char c : request) {
    for (auto& event : Feed(std::string_view(&c, 1))) events.push_back(std::move(event));
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, Kind::kComplete);
  EXPECT_EQ(events[1].head.headers.at("a"), "1, 2") << "repeated fields are joined";
}

TEST_F(RequestFramerTest, PipelinedRequestsAreEachHandedOver) {
  auto events = Feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\n");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[2].bytes, "GET /b HTTP/1.1\r\n");
  EXPECT_EQ(events[3].kind, Kind::kComplete);
  EXPECT_EQ(events[4].bytes, "GET /c HTTP/1.1\r\n");
  EXPECT_EQ(framer_.completed(), 2);
}

TEST_F(RequestFramerTest, ConnectionPersistenceFollowsRfc9112) {
  auto close11 = Feed("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n");
  EXPECT_TRUE(close11.back().head.close_requested);
  auto default11 = Feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(default11.back().head.close_requested);
  auto default10 = Feed("GET / HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(default10.back().head.close_requested) << "HTTP/1.0 closes unless asked to keep alive";
  auto keep10 = Feed("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_FALSE(keep10.back().head.close_requested);
  EXPECT_TRUE(keep10.back().head.http10);
}

TEST_F(RequestFramerTest, ExpectContinueIsAnsweredOnlyWhenTheBodyWillBeRead) {
  auto events = Feed("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, Kind::kContinue);
  EXPECT_EQ(Feed("abc").at(0).kind, Kind::kComplete);
  auto too_large = Feed("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 65\r\n\r\n");
  EXPECT_EQ(too_large.back().kind, Kind::kRefused);
  EXPECT_EQ(too_large.back().error.code, core::ErrorCode::kPayloadTooLarge);
}

TEST_F(RequestFramerTest, MalformedRequestsAreRefusedNamingThePart) {
  EXPECT_EQ(RefusedField("GARBAGE\r\n\r\n"), "request_line");
  EXPECT_EQ(RefusedField("GET  /a HTTP/1.1\r\n"), "request_line");
  EXPECT_EQ(RefusedField("GET /a HTTP/1.1 extra\r\n"), "request_line");
  EXPECT_EQ(RefusedField("get / HTTP/1.1\r\n"), "method");
  EXPECT_EQ(RefusedField("BREW / HTTP/1.1\r\n"), "method");
  EXPECT_EQ(RefusedField("GET http://evil/ HTTP/1.1\r\n"), "path");
  EXPECT_EQ(RefusedField("GET /a\x01 HTTP/1.1\r\n"), "path");
  EXPECT_EQ(RefusedField("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n"), "path");
  EXPECT_EQ(RefusedField("GET / HTTP/2.0\r\n"), "version");
  EXPECT_EQ(RefusedField("GET / HTTP/1\r\n"), "version");
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\n"), "headers") << "a bare LF";
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nA: b\rc\r\n"), "headers") << "a lone CR";
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), "headers");
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nBad Name: x\r\n"), "headers");
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nA: b\r\n folded\r\n"), "headers");
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\n\r\n"), "Host") << "HTTP/1.1 requires Host";
  EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n"), "Host");
  for (const std::string host : {"x:abc", "x:99999", "x:", ":80", "[::1", "[zz]", "a b", "a/b"}) {
    EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), "Host") << host;
  }
  for (const std::string length : {"abc", "-5", "1 2", "99999999999999999999999", ""}) {
    EXPECT_EQ(RefusedField("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n"), "Content-Length")
        << length;
  }
  EXPECT_EQ(RefusedField("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"), "Content-Length");
  EXPECT_EQ(RefusedField("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"), "Transfer-Encoding");
  EXPECT_EQ(RefusedField("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n"), "body");
}

TEST_F(RequestFramerTest, WellFormedOdditiesAreAccepted) {
  for (const std::string host : {"", "demo.localhost", "demo.localhost:8080", "[::1]:80", "127.0.0.1", "d\xffmo"}) {
    EXPECT_EQ(RefusedField("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), "") << host;
  }
  EXPECT_EQ(RefusedField("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "") << "empty lines before a request";
  EXPECT_EQ(RefusedField("GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n"), "")
      << "bytes past ASCII are the dispatcher's to judge";
  EXPECT_EQ(RefusedField("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"), "");
}

TEST_F(RequestFramerTest, KnowsWhenARequestIsUnderWay) {
  EXPECT_FALSE(framer_.mid_request());
  (void)Feed("GE");
  EXPECT_TRUE(framer_.mid_request()) << "a partial request line";
  (void)Feed("T / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{");
  EXPECT_TRUE(framer_.mid_request()) << "a partial body";
  (void)Feed("}");
  EXPECT_FALSE(framer_.mid_request());
}

TEST_F(RequestFramerTest, HeadsOverTheLimitAreRefusedWith431) {
  auto events = Feed("GET / HTTP/1.1\r\nA: " + std::string(2000, 'a'));
  ASSERT_EQ(events.back().kind, Kind::kRefused);
  EXPECT_EQ(events.back().error.code, core::ErrorCode::kHeadersTooLarge);
  EXPECT_TRUE(framer_.stopped());
  EXPECT_TRUE(Feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n").empty()) << "nothing is read after a refusal";

  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(RefusedField(many), "headers");
}

}  // namespace
}  // namespace clinicore::http
