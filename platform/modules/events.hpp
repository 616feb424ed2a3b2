#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/jobs/enqueue.hpp"
#include "platform/jobs/job.hpp"
#include "platform/jobs/registry.hpp"

// Domain events: how modules talk without including each other. A module emits an event in
// the transaction of the change ("clinic.created"); the event is a job on the durable queue,
// so it exists if and only if the change committed. In `work`, the fan-out job gives every
// subscriber its own job (kind "<subscriber>.on.<event>", idempotency key = the event id), so
// each subscriber runs at least once, retries on its own, and never runs twice for one event
// while the queue keeps the job.
namespace clinicore::modules {

struct Event {
  std::string id;    // a UUID; the idempotency key of every delivery
  std::string name;  // "<module>.<what happened>", e.g. "clinic.created"
  nlohmann::json payload = nlohmann::json::object();
  std::string occurred_at;  // RFC 3339
  std::string tenant_id;
};

struct EventSubscription {
  std::string subscriber;  // the subscribing module's Name()
  std::string event;       // the event name it acts on
  // Runs in the worker, inside its own job: return Retry for a transient failure. Must be
  // idempotent with respect to event.id.
  std::function<jobs::Outcome(jobs::JobContext& context, const Event& event)> handle;
};

// The job kind that fans events out to their subscribers.
inline constexpr const char* kFanOutKind = "events.fan-out";
// "<subscriber>.on.<event>": the kind of one subscriber's deliveries.
std::string DeliveryKind(const EventSubscription& subscription);

// Writes the event in the caller's transaction (tenant scope) and returns its id. Event names
// follow the job-kind rule ([a-z][a-z0-9_-]* segments joined by dots); a bad name throws
// std::invalid_argument (a programming error, not a request's).
std::string Emit(jobs::JobTx& jobs, std::string_view name, const nlohmann::json& payload);

// A string field of an event's (or a job's) payload; nullopt when absent or not a string.
std::optional<std::string> PayloadString(const nlohmann::json& payload, const char* key);

// Registers the fan-out kind and one delivery kind per subscription (`work`). Throws on two
// subscriptions of one module to one event.
void RegisterEventKinds(jobs::JobRegistry& registry, std::vector<EventSubscription> subscriptions);

}  // namespace clinicore::modules
