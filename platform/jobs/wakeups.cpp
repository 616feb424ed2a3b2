#include "platform/jobs/wakeups.hpp"

#include "platform/core/log.hpp"
#include "platform/jobs/enqueue.hpp"

namespace clinicore::jobs {

WakeupListener::WakeupListener(core::RedisConfig config, MessageFn on_message, StateFn on_state)
    : subscription_(std::move(config), kWakeChannel,
                    cache::RedisSubscription::Handlers{
                        [on_state] {
                          core::log::Info("job_wakeups_subscribed", {{"channel", kWakeChannel}});
                          on_state(true);
                          return true;
                        },
                        std::move(on_message),
                        [on_state] {
                          core::log::Warn("job_wakeups_unavailable", {{"detail", "polling until Redis is back"}});
                          on_state(false);
                        }}) {}

WakeupListener::~WakeupListener() {
  Stop();
}

void WakeupListener::Start() {
  subscription_.Start();
}

void WakeupListener::Stop() {
  subscription_.Stop();
}

}  // namespace clinicore::jobs
