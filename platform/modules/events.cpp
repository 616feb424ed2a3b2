#include "platform/modules/events.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "platform/core/crypto.hpp"
#include "platform/core/log.hpp"
#include "platform/kit/validators.hpp"
#include "platform/tenancy/tenant.hpp"

namespace clinicore::modules {
namespace {

// Events wait for nobody: a subscriber's failures are its own job's retries.
constexpr int kFanOutAttempts = 25;

Event EventOf(const jobs::Job& job) {
  const auto& p = job.payload;
  return {p.value("id", ""), p.value("name", ""), p.value("payload", nlohmann::json::object()),
          p.value("occurred_at", ""), job.tenant_id};
}

}  // namespace

std::string DeliveryKind(const EventSubscription& subscription) {
  return subscription.subscriber + ".on." + subscription.event;
}

std::string Emit(jobs::JobTx& jobs, std::string_view name, const nlohmann::json& payload) {
  if (auto valid = jobs::ValidateKind(name); !valid) {
    throw std::invalid_argument("bad event name '" + std::string(name) + "': " + valid.error().detail);
  }
  const std::string id = core::NewUuid();
  const nlohmann::json event = {{"id", id},
                                {"name", name},
                                {"payload", payload},
                                {"occurred_at", kit::FormatInstant(std::chrono::system_clock::now())}};
  auto enqueued = jobs.Enqueue(kFanOutKind, event, {.idempotency_key = id, .max_attempts = kFanOutAttempts});
  if (!enqueued) throw std::invalid_argument("cannot emit '" + std::string(name) + "': " + enqueued.error().detail);
  return id;
}

void RegisterEventKinds(jobs::JobRegistry& registry, std::vector<EventSubscription> subscriptions) {
  std::map<std::string, std::vector<std::string>> kinds_by_event;
  std::set<std::string> seen;
  for (auto& subscription : subscriptions) {
    const std::string kind = DeliveryKind(subscription);
    if (!seen.insert(kind).second) throw std::invalid_argument("two subscriptions register " + kind);
    kinds_by_event[subscription.event].push_back(kind);
    registry.Register(kind, [handle = std::move(subscription.handle)](jobs::JobContext& context) {
      return handle(context, EventOf(context.job()));
    });
  }
  registry.Register(kFanOutKind, [kinds_by_event](jobs::JobContext& context) -> jobs::Outcome {
    const Event event = EventOf(context.job());
    const auto subscribers = kinds_by_event.find(event.name);
    if (subscribers == kinds_by_event.end() || context.tenant() == nullptr) return jobs::Outcome::Done();
    // One transaction for every delivery: the fan-out either enqueued them all or runs again,
    // and the event id as idempotency key makes a second run enqueue nothing twice.
    auto written = context.jobs().WriteInTenant(
        context.tenant()->Scope(), [&](db::Transaction& tx, jobs::JobTx& jobs) -> core::Status {
          for (const auto& kind : subscribers->second) {
            auto enqueued = jobs.Enqueue(kind, context.job().payload, {.idempotency_key = event.id});
            if (!enqueued) return std::move(enqueued).error();
          }
          tx.Commit();
          return core::Ok();
        });
    if (!written) return jobs::Outcome::Retry(written.error().detail);
    return jobs::Outcome::Done();
  });
}

std::optional<std::string> PayloadString(const nlohmann::json& payload, const char* key) {
  const auto it = payload.find(key);
  if (it == payload.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace clinicore::modules
