#include "platform/plugins/plugin_jobs.hpp"

#include <algorithm>
#include <string>

#include "platform/core/log.hpp"
#include "platform/plugins/pg_kv_store.hpp"

namespace clinicore::plugins {
namespace {

using jobs::JobContext;
using jobs::Outcome;
using nlohmann::json;

// What is left of the job's own deadline: the plugin call may not outlive the attempt.
std::chrono::milliseconds TimeLeft(const JobContext& context) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(context.deadline() - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

json JobFields(const JobContext& context, const std::string& plugin) {
  return {{"tenant_id", context.job().tenant_id},
          {"job_id", context.job().id},
          {"kind", context.job().kind},
          {"attempt", context.job().attempt},
          {"plugin", plugin}};
}

Outcome ChannelSend(PluginHost& host, JobContext& context) {
  const json& payload = context.job().payload;
  if (!payload.is_object() || !payload.contains("plugin") || !payload["plugin"].is_string() ||
      !payload.value("message", json()).is_object() || !payload.value("recipient", json()).is_object()) {
    return Outcome::Fail("payload must be {\"plugin\": string, \"message\": object, \"recipient\": object}");
  }
  const std::string plugin = payload["plugin"].get<std::string>();
  const auto left = TimeLeft(context);
  if (left.count() == 0) return Outcome::Retry("the job's deadline passed before the plugin was called");
  auto sent = host.Send(*context.tenant(), plugin, payload["message"], payload["recipient"],
                        context.job().idempotency_key, left);
  if (!sent) return Outcome::FromError(sent.error());
  json fields = JobFields(context, plugin);
  switch (sent->status) {
    case SendOutcome::Status::kDelivered:
      fields["provider_message_id"] = sent->provider_message_id;
      core::log::Info("plugin_send_delivered", fields);
      return Outcome::Done();
    case SendOutcome::Status::kRetry:
      fields["retry_after_s"] = sent->retry_after_seconds;
      fields["reason"] = sent->reason;
      core::log::Info("plugin_send_retry", fields);
      return Outcome::Retry(sent->reason, core::Millis(static_cast<long long>(sent->retry_after_seconds) * 1000));
    case SendOutcome::Status::kFailed:
      break;
  }
  fields["reason"] = sent->reason;
  core::log::Warn("plugin_send_failed", fields);
  return Outcome::Fail(sent->reason);
}

Outcome CheckConfig(PluginHost& host, JobContext& context) {
  const json& payload = context.job().payload;
  if (!payload.is_object() || !payload.contains("plugin") || !payload["plugin"].is_string()) {
    return Outcome::Fail("payload must be {\"plugin\": string}");
  }
  const std::string plugin = payload["plugin"].get<std::string>();
  auto checked = host.CheckConfig(*context.tenant(), plugin);
  if (!checked) return Outcome::FromError(checked.error());
  json fields = JobFields(context, plugin);
  fields["result"] = *checked;
  core::log::Info("plugin_config_checked", fields);
  return Outcome::Done();
}

Outcome SweepKeyValues(db::Database& database, JobContext& context) {
  constexpr int kBatch = 5'000;
  auto deleted = PgKeyValueStore::SweepExpired(database, kBatch, [&] { return !context.cancelled(); });
  if (!deleted) return Outcome::FromError(deleted.error());
  if (*deleted > 0) core::log::Info("plugin_kv_swept", {{"deleted", *deleted}});
  return Outcome::Done();
}

}  // namespace

void RegisterPluginJobs(jobs::JobRegistry& registry, std::shared_ptr<PluginHost> host) {
  // A job reclaimed from a dead worker: the plugin call it was running most likely took the
  // process down (a crash in plugin code cannot be caught in-process). Blame the plugin.
  auto lost = [host](const jobs::Job& job) {
    if (!job.payload.is_object() || !job.payload.contains("plugin") || !job.payload["plugin"].is_string()) return;
    host->BookLostCall(job.tenant_id, job.payload["plugin"].get<std::string>(),
                       job.kind + " job " + std::to_string(job.id) + ": the worker died during attempt " +
                           std::to_string(job.attempt) + " (lease expired)");
  };
  registry.Register(kChannelSendKind, [host](JobContext& context) { return ChannelSend(*host, context); },
                    {.on_reclaimed = lost});
  registry.Register(kCheckConfigKind, [host](JobContext& context) { return CheckConfig(*host, context); },
                    {.on_reclaimed = lost});
  registry.Register(kKvSweepKind, [](JobContext& context) { return SweepKeyValues(context.database(), context); },
                    {.scope = jobs::JobScope::kPlatform});
  registry.AddSchedule({.name = kKvSweepKind,
                        .kind = kKvSweepKind,
                        .spec = jobs::ScheduleSpec::Every(std::chrono::minutes(10)),
                        .max_attempts = 3});
}

}  // namespace clinicore::plugins
