// Example channel plugin: sends SMS through an HTTP gateway.
//
// Shows the parts of the SDK a real channel uses: a config schema with a secret, the host's
// HTTP service (bounded by the call's deadline), mapping provider answers to delivered / retry /
// failed, refusing unusable input, the per-tenant key-value store, logging, and a live config
// check.
#include <clinicore/sdk/plugin.hpp>
#include <regex>
#include <string>

namespace {

using clinicore::sdk::Host;
using clinicore::sdk::Json;
using clinicore::sdk::SendRequest;
using clinicore::sdk::SendResult;

class SmsGateway : public clinicore::sdk::Channel {
 public:
  static constexpr const char* kName = "example-sms";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "SMS through an HTTP gateway (SDK example)";
  static constexpr const char* kConfigSchema = R"json({
    "type": "object",
    "additionalProperties": false,
    "required": ["gateway_url", "api_key", "sender"],
    "properties": {
      "gateway_url": {"type": "string", "pattern": "^https?://[^ ]+$", "maxLength": 500,
                      "description": "Base URL of the gateway; messages are POSTed to <gateway_url>/messages"},
      "api_key": {"type": "string", "minLength": 16, "maxLength": 200, "x-secret": true},
      "sender": {"type": "string", "pattern": "^[A-Za-z0-9 ]{1,11}$", "description": "Alphanumeric sender id"},
      "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 10000, "default": 3000}
    }
  })json";
  static constexpr clinicore::sdk::ChannelLimits kLimits{1600, 10};

  SmsGateway(const Json& config, Host& /*host*/)
      : url_(config.at("gateway_url").get<std::string>()),
        api_key_(config.at("api_key").get<std::string>()),
        sender_(config.at("sender").get<std::string>()),
        timeout_ms_(config.value("timeout_ms", 3000)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  SendResult Send(const SendRequest& request, Host& host) override {
    const std::string text = request.message.value("body", std::string());
    if (text.empty()) throw clinicore::sdk::InvalidInput("message.body is empty");
    const std::string phone = request.recipient.value("phone", std::string());
    static const std::regex kE164("^\\+[1-9][0-9]{6,14}$");
    if (!std::regex_match(phone, kE164)) return SendResult::Failed("recipient.phone is not an E.164 number");

    clinicore::sdk::HttpRequest http;
    http.url = url_ + "/messages";
    http.headers = {{"Authorization", "Bearer " + api_key_},
                    {"Content-Type", "application/json"},
                    {"Idempotency-Key", request.idempotency_key}};
    http.body = Json{{"to", phone}, {"from", sender_}, {"text", text}, {"reference", request.idempotency_key}}.dump();
    http.timeout_ms = timeout_ms_;
    const auto reply = host.Http(http);
    if (!reply.transport_ok()) return SendResult::RetryAfter(15, "gateway unreachable: " + reply.error);
    if (reply.status == 429) {
      const auto after = reply.Header("retry-after");
      return SendResult::RetryAfter(after ? std::stoi(*after) : 60, "gateway rate limit");
    }
    if (reply.status >= 500) return SendResult::RetryAfter(30, "gateway error " + std::to_string(reply.status));
    if (reply.status < 200 || reply.status >= 300) {
      return SendResult::Failed("gateway refused the message: HTTP " + std::to_string(reply.status));
    }
    const Json body = Json::parse(reply.body, nullptr, false);
    const std::string id = body.is_object() ? body.value("id", std::string()) : std::string();

    // Per-tenant state: a running count of messages this tenant sent through the plugin.
    const auto sent = host.KvGet("sent_total");
    host.KvPut("sent_total", std::to_string(sent ? std::stoll(*sent) + 1 : 1));
    host.Log(clinicore::sdk::LogLevel::kInfo, "sms accepted", {{"gateway_id", id}});
    return SendResult::Delivered(id.empty() ? request.idempotency_key : id);
  }

  std::optional<clinicore::sdk::ConfigCheck> CheckConfig(Host& host) override {
    clinicore::sdk::HttpRequest http;
    http.method = "GET";
    http.url = url_ + "/ping";
    http.headers = {{"Authorization", "Bearer " + api_key_}};
    const auto reply = host.Http(http);
    if (!reply.transport_ok()) return clinicore::sdk::ConfigCheck::Fail("gateway_url", "unreachable: " + reply.error);
    if (reply.status == 401 || reply.status == 403) {
      return clinicore::sdk::ConfigCheck::Fail("api_key", "the gateway refused the API key");
    }
    if (reply.status != 200) {
      return clinicore::sdk::ConfigCheck::Fail("gateway_url", "answered HTTP " + std::to_string(reply.status));
    }
    return clinicore::sdk::ConfigCheck::Ok();
  }

 private:
  std::string url_;
  std::string api_key_;
  std::string sender_;
  int timeout_ms_;
};

}  // namespace

CLINICORE_CHANNEL_PLUGIN(SmsGateway)
