// Channel "webhook": POSTs each notification as a signed JSON event to the tenant's URL,
// Standard Webhooks style (https://www.standardwebhooks.com/):
//   webhook-id: msg_<idempotency key>            (the same on every retry of one delivery)
//   webhook-timestamp: <unix seconds>
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
// where key is the base64-decoded part of the secret after "whsec_". Sent through the host's
// HTTP service (libcurl, bounded by the call's deadline).
#include <sodium.h>

#include <chrono>
#include <clinicore/sdk/plugin.hpp>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

using clinicore::sdk::Host;
using clinicore::sdk::Json;
using clinicore::sdk::SendRequest;
using clinicore::sdk::SendResult;

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string IsoTime(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

class Webhook : public clinicore::sdk::Channel {
 public:
  static constexpr const char* kName = "webhook";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "POSTs notifications as signed JSON events (Standard Webhooks: webhook-id, webhook-timestamp, "
      "webhook-signature v1 HMAC-SHA256)";
  static constexpr const char* kConfigSchema = R"json({
    "type": "object",
    "additionalProperties": false,
    "required": ["url", "secret"],
    "properties": {
      "url": {"type": "string", "pattern": "^https?://[^ ]+$", "maxLength": 2000,
              "description": "Where events are POSTed (https in production)"},
      "secret": {"type": "string", "pattern": "^whsec_[A-Za-z0-9+/]{32,}={0,2}$", "maxLength": 200, "x-secret": true,
                 "description": "whsec_ followed by base64 of 24 to 64 random bytes"},
      "event_type": {"type": "string", "minLength": 1, "maxLength": 100, "default": "notification.send"},
      "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 30000, "default": 5000}
    }
  })json";
  static constexpr clinicore::sdk::ChannelLimits kLimits{256 * 1024, 0};

  Webhook(const Json& config, Host& /*host*/)
      : url_(config.at("url").get<std::string>()),
        event_type_(config.value("event_type", std::string("notification.send"))),
        timeout_ms_(config.value("timeout_ms", 5000)) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    const std::string secret = config.at("secret").get<std::string>();
    const std::string encoded = secret.substr(6);  // after "whsec_"
    key_.resize(encoded.size());
    size_t length = 0;
    if (sodium_base642bin(key_.data(), key_.size(), encoded.data(), encoded.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length < 24 || length > 64) {
      throw clinicore::sdk::InvalidInput("secret must be whsec_ followed by base64 of 24 to 64 bytes");
    }
    key_.resize(length);
  }

  SendResult Send(const SendRequest& request, Host& host) override {
    if (request.idempotency_key.empty()) throw clinicore::sdk::InvalidInput("idempotency_key is required");
    const Json event = {{"type", event_type_},
                        {"timestamp", IsoTime(host.NowUnixMs())},
                        {"data",
                         {{"message", request.message},
                          {"recipient", request.recipient},
                          {"tenant", {{"id", request.tenant.id}, {"slug", request.tenant.slug}}}}}};
    const auto reply = Post(host, "msg_" + request.idempotency_key, event.dump());
    const std::string id = "msg_" + request.idempotency_key;
    if (!reply.transport_ok()) {
      return SendResult::RetryAfter(30, (reply.timed_out ? "timed out: " : "unreachable: ") + reply.error);
    }
    if (reply.status >= 200 && reply.status < 300) return SendResult::Delivered(id);
    if (reply.status == 429) {
      const auto after = reply.Header("retry-after");
      int seconds = 60;
      if (after) {
        try {
          seconds = std::stoi(*after);
        } catch (const std::exception&) {
          seconds = 60;
        }
      }
      return SendResult::RetryAfter(seconds < 0 ? 60 : seconds, "the endpoint asked to slow down (429)");
    }
    if (reply.status == 408 || reply.status >= 500) {
      return SendResult::RetryAfter(30, "the endpoint answered " + std::to_string(reply.status));
    }
    return SendResult::Failed("the endpoint refused the event: HTTP " + std::to_string(reply.status));
  }

  // Sends a signed "webhook.test" event: the endpoint must accept it.
  std::optional<clinicore::sdk::ConfigCheck> CheckConfig(Host& host) override {
    const Json event = {{"type", "webhook.test"}, {"timestamp", IsoTime(host.NowUnixMs())}, {"data", Json::object()}};
    const auto reply = Post(host, "msg_test_" + std::to_string(host.NowUnixMs()), event.dump());
    if (!reply.transport_ok()) return clinicore::sdk::ConfigCheck::Fail("url", "unreachable: " + reply.error);
    if (reply.status < 200 || reply.status >= 300) {
      return clinicore::sdk::ConfigCheck::Fail(
          "url", "the endpoint answered HTTP " + std::to_string(reply.status) + " to a signed test event");
    }
    return clinicore::sdk::ConfigCheck::Ok();
  }

 private:
  clinicore::sdk::HttpResponse Post(Host& host, const std::string& id, const std::string& body) const {
    const std::string timestamp = std::to_string(host.NowUnixMs() / 1000);
    const std::string signed_content = id + "." + timestamp + "." + body;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key_.data(), key_.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signed_content.data()),
                                  signed_content.size());
    crypto_auth_hmacsha256_final(&state, mac);
    clinicore::sdk::HttpRequest request;
    request.url = url_;
    request.headers = {{"Content-Type", "application/json"},
                       {"webhook-id", id},
                       {"webhook-timestamp", timestamp},
                       {"webhook-signature", "v1," + Base64(mac, sizeof mac)}};
    request.body = body;
    request.timeout_ms = timeout_ms_;
    return host.Http(request);
  }

  std::string url_;
  std::string event_type_;
  int timeout_ms_;
  std::vector<unsigned char> key_;
};

}  // namespace

CLINICORE_CHANNEL_PLUGIN(Webhook)
