#pragma once

#include <memory>

#include "platform/jobs/registry.hpp"
#include "platform/plugins/plugin_host.hpp"

namespace clinicore::plugins {

// The job kinds that drive plugins. Only `clinicore work` registers them (it is the one process
// that loads plugin code, see docs/decisions/0006-plugin-boundary.md); anything may enqueue them.
//
//   plugins.channel-send   payload {"plugin": name, "message": {…}, "recipient": {…}}
//                          PluginHost::Send for the job's tenant, with the job's idempotency key
//                          (stable over retries: the provider deduplicates) and what is left of the
//                          job's deadline. delivered → Done (provider_message_id logged);
//                          retry_after → Retry after that delay; failed → Fail; host errors map
//                          like any error (not enabled, quarantined, refused input → Fail;
//                          deadline, plugin error, overload → Retry with backoff).
//   plugins.check-config   payload {"plugin": name}
//                          PluginHost::CheckConfig: runs the plugin's live check on the tenant's
//                          current config and records the outcome for the console. Enqueued by
//                          the console's enable/reconfigure route in the same transaction.
//   plugins.kv-sweep       (platform, every 10 minutes) deletes expired key-value entries of
//                          every tenant's plugins, in batches; reads already ignore them.
inline constexpr const char* kChannelSendKind = "plugins.channel-send";
inline constexpr const char* kCheckConfigKind = "plugins.check-config";
inline constexpr const char* kKvSweepKind = "plugins.kv-sweep";

void RegisterPluginJobs(jobs::JobRegistry& registry, std::shared_ptr<PluginHost> host);

}  // namespace clinicore::plugins
