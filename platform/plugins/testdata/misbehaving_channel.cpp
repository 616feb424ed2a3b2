// A channel plugin for tests, written against the raw C ABI (no C++ layer), that misbehaves
// on request. message.body decides what send does:
//   "crash"   dereferences NULL (SIGSEGV)          "hang"    sleeps 30 s
//   "throw"   lets a C++ exception cross the C ABI  "garbage" returns malformed JSON
//   "shape"   returns JSON of the wrong shape        "error"   returns CLINICORE_PLUGIN_ERROR
//   "invalid" refuses its input (CLINICORE_INVALID_INPUT)
//   "count"   counts sends in the tenant's key-value store
//   anything else: delivered, provider_message_id = "<label>|<token>|<tenant slug>"
// The config {"label", "token" (secret)} is echoed back so tests can see which config a call
// ran with. Built three times: as misbehaving.so and as duplicate.so (same name + version),
// and with THROTTLED as throttled.so: named "throttled", declaring 5 sends per second.
#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "clinicore/sdk/abi.h"

namespace {

using nlohmann::json;

struct Instance {
  std::string label;
  std::string token;
};

void Write(clinicore_sink* out, const std::string& text) {
  out->write(out->ctx, text.data(), text.size());
}

int32_t Create(const clinicore_host*, const char* config, size_t size, void** instance, clinicore_sink* error) {
  const json parsed = json::parse(config, config + size, nullptr, false);
  if (!parsed.is_object()) {
    Write(error, R"({"error":"config must be an object"})");
    return CLINICORE_INVALID_INPUT;
  }
  if (parsed.value("label", std::string()) == "refuse") {
    Write(error, R"({"error":"this label is refused"})");
    return CLINICORE_INVALID_INPUT;
  }
  *instance = new Instance{parsed.value("label", std::string()), parsed.value("token", std::string())};
  return CLINICORE_OK;
}

void Destroy(void* instance) {
  delete static_cast<Instance*>(instance);
}

int32_t Send(void* raw, const clinicore_host* host, const char* input, size_t size, clinicore_sink* out) {
  auto* instance = static_cast<Instance*>(raw);
  const json parsed = json::parse(input, input + size, nullptr, false);
  if (!parsed.is_object()) return CLINICORE_INVALID_INPUT;
  const std::string body = parsed.value("message", json::object()).value("body", std::string());
  if (body == "crash") {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
  }
  if (body == "hang") std::this_thread::sleep_for(std::chrono::seconds(30));
  if (body == "throw") throw std::runtime_error("thrown across the C ABI");
  if (body == "garbage") {
    Write(out, "{\"status\": delivered");
    return CLINICORE_OK;
  }
  if (body == "shape") {
    Write(out, R"({"delivered": true})");
    return CLINICORE_OK;
  }
  if (body == "invalid") {
    Write(out, R"({"error":"the recipient has no address"})");
    return CLINICORE_INVALID_INPUT;
  }
  if (body == "error") {
    Write(out, R"({"error":"the provider library failed"})");
    return CLINICORE_PLUGIN_ERROR;
  }
  if (body == "count") {
    std::string value;
    clinicore_sink sink{&value, [](void* ctx, const char* data, size_t n) -> int32_t {
                          static_cast<std::string*>(ctx)->append(data, n);
                          return 0;
                        }};
    const std::string key = "count";
    const int32_t found = host->services->kv_get(host->ctx, key.data(), key.size(), &sink);
    const int next = found == CLINICORE_HOST_OK ? std::stoi(value) + 1 : 1;
    const std::string text = std::to_string(next);
    if (host->services->kv_put(host->ctx, key.data(), key.size(), text.data(), text.size(), 0) != CLINICORE_HOST_OK) {
      return CLINICORE_PLUGIN_ERROR;
    }
    Write(out, json{{"status", "delivered"}, {"provider_message_id", instance->label + "#" + text}}.dump());
    return CLINICORE_OK;
  }
  const std::string slug = parsed.value("tenant", json::object()).value("slug", std::string());
  Write(out,
        json{{"status", "delivered"}, {"provider_message_id", instance->label + "|" + instance->token + "|" + slug}}
            .dump());
  return CLINICORE_OK;
}

#ifdef THROTTLED
constexpr const char* kName = "throttled";
constexpr uint32_t kMaxPerSecond = 5;
#else
constexpr const char* kName = "misbehaving";
constexpr uint32_t kMaxPerSecond = 0;
#endif

const clinicore_channel_ops kOps{sizeof(clinicore_channel_ops), 0, kMaxPerSecond, 0, &Send};

const clinicore_plugin_descriptor kDescriptor{
    CLINICORE_PLUGIN_MAGIC,
    sizeof(clinicore_plugin_descriptor),
    CLINICORE_SDK_ABI_MAJOR,
    CLINICORE_SDK_ABI_MINOR,
    0,
    CLINICORE_KIND_CHANNEL,
    kName,
    "1.0.0",
    "a test channel that misbehaves on request",
    R"({"type":"object","additionalProperties":false,"required":["label"],
        "properties":{"label":{"type":"string","minLength":1,"maxLength":40},
                      "token":{"type":"string","x-secret":true}}})",
    &Create,
    &Destroy,
    nullptr,
    &kOps,
};

}  // namespace

CLINICORE_PLUGIN_EXPORT const clinicore_plugin_descriptor* clinicore_plugin_entry(void) {
  return &kDescriptor;
}
