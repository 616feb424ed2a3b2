#pragma once

// A channel that does nothing but answer "delivered": the plugin boundary's cost with no
// plugin work in it. Compiled into a plugin (noop_channel.cpp) and, for the direct-call
// baseline, into the bench itself.
#include <clinicore/sdk/plugin.hpp>
#include <string>

namespace clinicore::bench {

class NoopChannel : public sdk::Channel {
 public:
  static constexpr const char* kName = "bench-noop";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription = "does nothing (bench/plugin_boundary)";
  static constexpr const char* kConfigSchema = R"({"type":"object"})";
  static constexpr sdk::ChannelLimits kLimits{0, 0};

  NoopChannel(const sdk::Json& /*config*/, sdk::Host& /*host*/) {}
  sdk::SendResult Send(const sdk::SendRequest& request, sdk::Host& /*host*/) override {
    return sdk::SendResult::Delivered("noop-" + request.idempotency_key);
  }
};

}  // namespace clinicore::bench
