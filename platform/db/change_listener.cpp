#include "platform/db/change_listener.hpp"

#include <pqxx/pqxx>

#include "platform/core/log.hpp"
#include "platform/db/pool.hpp"

namespace clinicore::db {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, const std::string& channel, const ChangeListener::NoticeFn& on_notice)
      : pqxx::notification_receiver(connection, channel), on_notice_(on_notice) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { on_notice_(payload); }

 private:
  const ChangeListener::NoticeFn& on_notice_;
};

// How long one wait for notices blocks: bounds how long Stop() waits for the thread.
constexpr long kPollMicros = 200'000;

}  // namespace

ChangeListener::ChangeListener(core::DatabaseConfig config, std::string channel, NoticeFn on_notice, StateFn on_state)
    : config_(std::move(config)),
      channel_(std::move(channel)),
      on_notice_(std::move(on_notice)),
      on_state_(std::move(on_state)) {}

ChangeListener::~ChangeListener() {
  Stop();
}

void ChangeListener::Start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { Run(); });
}

void ChangeListener::Stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

void ChangeListener::Run() {
  bool reported_down = false;
  while (running_) {
    bool listened = false;
    try {
      pqxx::connection connection(BuildConnectionString(config_));
      Receiver receiver(connection, channel_, on_notice_);  // issues LISTEN
      listened = true;
      reported_down = false;
      core::log::Info("db_listening", {{"channel", channel_}});
      on_state_(true);
      while (running_) connection.await_notification(0, kPollMicros);
    } catch (const std::exception& e) {
      if (running_ && (listened || !reported_down)) {
        core::log::Warn("db_listen_lost", {{"channel", channel_}, {"detail", e.what()}});
      }
    }
    if (listened || !reported_down) on_state_(false);
    reported_down = true;
    for (int i = 0; i < 10 && running_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace clinicore::db
