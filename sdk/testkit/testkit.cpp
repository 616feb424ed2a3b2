#include "testkit.hpp"

#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "clinicore/sdk/host/invoke.hpp"
#include "clinicore/sdk/host/loader.hpp"
#include "clinicore/sdk/host/schema.hpp"
#include "clinicore/sdk/host/services.hpp"

namespace clinicore::sdk::testkit {
namespace {

using nlohmann::json;
namespace host = clinicore::sdk::host;

// Answers HTTP from the samples' canned responses and remembers every request.
class CannedHttpTransport : public host::HttpTransport {
 public:
  explicit CannedHttpTransport(json rules) : rules_(std::move(rules)) {}

  host::HttpResult Perform(const host::HttpCall& call) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(call);
    for (const auto& rule : rules_) {
      const json match = rule.value("match", json::object());
      if (match.contains("method") && match["method"] != call.method) continue;
      if (match.contains("url_prefix") && call.url.rfind(match["url_prefix"].get<std::string>(), 0) != 0) continue;
      if (match.contains("body_contains") &&
          call.body.find(match["body_contains"].get<std::string>()) == std::string::npos) {
        continue;
      }
      const json response = rule.value("response", json::object());
      host::HttpResult result;
      if (response.contains("error")) {
        result.error = response["error"].get<std::string>();
        result.timed_out = response.value("timed_out", false);
        return result;
      }
      result.status = response.value("status", 200);
      result.body = response.value("body", std::string());
      const json headers = response.value("headers", json::object());
      for (const auto& [name, value] : headers.items()) result.headers[name] = value.get<std::string>();
      return result;
    }
    host::HttpResult result;
    result.error = "clinicore-plugin-test: no canned response for " + call.method + " " + call.url;
    return result;
  }

  std::vector<host::HttpCall> TakeRequests() {
    std::lock_guard lock(mutex_);
    std::vector<host::HttpCall> taken;
    taken.swap(requests_);
    return taken;
  }

 private:
  json rules_;
  std::mutex mutex_;
  std::vector<host::HttpCall> requests_;
};

class FixedClock : public host::Clock {
 public:
  explicit FixedClock(int64_t now) : now_(now) {}
  int64_t NowUnixMs() const override { return now_; }

 private:
  int64_t now_;
};

// Captures plugin log lines so the report can show them under the call that wrote them.
class CapturingLogSink : public host::LogSink {
 public:
  void Write(const host::CallIdentity& /*who*/, int level, std::string_view message, const json& fields) override {
    static const char* kLevels[] = {"debug", "info", "warn", "error"};
    std::lock_guard lock(mutex_);
    lines_.push_back(std::string(kLevels[level < 0 || level > 3 ? 1 : level]) + ": " + std::string(message) +
                     (fields.empty() ? "" : " " + fields.dump()));
  }
  std::vector<std::string> Take() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> taken;
    taken.swap(lines_);
    return taken;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Does `actual` contain everything `expected` says? Objects: every expected member matches;
// arrays: same length, element by element; anything else: equal.
bool Contains(const json& actual, const json& expected, std::string& where) {
  if (expected.is_object()) {
    if (!actual.is_object()) return false;
    for (const auto& [name, value] : expected.items()) {
      if (!actual.contains(name)) {
        where = name + " is missing";
        return false;
      }
      if (!Contains(actual[name], value, where)) {
        if (where.empty()) where = name + " is " + actual[name].dump() + ", expected " + value.dump();
        return false;
      }
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      where = "has " + std::to_string(actual.is_array() ? actual.size() : 0) + " items, expected " +
              std::to_string(expected.size());
      return false;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!Contains(actual[i], expected[i], where)) return false;
    }
    return true;
  }
  return actual == expected;
}

std::string Short(const json& value, size_t max = 160) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > max ? text.substr(0, max - 3) + "..." : text;
}

class Report {
 public:
  explicit Report(std::ostream& out) : out_(out) {}
  void Pass(const std::string& what) {
    Line("PASS", what);
    ++passed_;
  }
  void Warn(const std::string& what) {
    Line("WARN", what);
    ++warnings_;
  }
  void Fail(const std::string& what) {
    Line("FAIL", what);
    ++failed_;
  }
  void Note(const std::string& what) { out_ << "        " << what << "\n"; }
  int Finish() {
    out_ << "conformance: " << passed_ << " passed, " << warnings_ << " warning(s), " << failed_ << " failed\n";
    return failed_ == 0 ? 0 : 1;
  }

 private:
  void Line(const char* tag, const std::string& what) { out_ << "  " << tag << "  " << what << "\n"; }
  std::ostream& out_;
  int passed_ = 0;
  int warnings_ = 0;
  int failed_ = 0;
};

std::optional<json> ReadSamples(const std::string& path, std::ostream& out) {
  std::ifstream in(path);
  if (!in) {
    out << "clinicore-plugin-test: cannot read " << path << "\n";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  json samples = json::parse(text.str(), nullptr, false);
  if (!samples.is_object()) {
    out << "clinicore-plugin-test: " << path << " is not a JSON object\n";
    return std::nullopt;
  }
  return samples;
}

// What a robustness call may answer: a valid result or a clean refusal; never malformed
// output, a timeout or (a warning) a plugin error.
void Robustness(Report& report, host::Invoker& invoker, const std::shared_ptr<host::PluginInstance>& instance,
                host::Operation op, host::CallInput input, const std::string& what, const host::CallIdentity& who,
                std::chrono::milliseconds timeout) {
  auto result = invoker.Call(instance, op, std::move(input), who, timeout);
  const std::string label = std::string("robustness: ") + host::OperationName(op) + " with " + what;
  if (result.ok() || result.error().kind == host::FailureKind::kInvalidInput ||
      result.error().kind == host::FailureKind::kUnsupported) {
    report.Pass(label + " → " + (result.ok() ? "a valid result" : host::FailureKindName(result.error().kind)));
  } else if (result.error().kind == host::FailureKind::kPluginError) {
    report.Warn(label +
                " → plugin_error (throw InvalidInput for input you cannot use; plugin errors count toward "
                "quarantine): " +
                result.error().message);
  } else {
    report.Fail(label + " → " + result.error().message);
  }
}

}  // namespace

int RunConformance(const Options& options, std::ostream& out) {
  std::optional<json> samples;
  if (options.samples_path) {
    samples = ReadSamples(*options.samples_path, out);
    if (!samples) return 2;
  }
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  Report report(out);
  out << "clinicore-plugin-test (host SDK ABI " << host::kHostAbiMajor << "." << host::kHostAbiMinor << ")\n";
  out << "plugin: " << options.plugin_path << "\n";

  host::PluginCatalog catalog;
  auto loaded = catalog.Load(options.plugin_path);
  if (!loaded) {
    report.Fail("load: " + loaded.error().message);
    return report.Finish();
  }
  const host::PluginInfo& info = (*loaded)->info();
  report.Pass("load: descriptor accepted: " + info.name + " " + info.version + ", kind " + host::KindName(info.kind) +
              ", ABI " + std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor));
  std::string flags;
  for (const auto& flag : host::BuildFlagNames(info.build_flags)) flags += (flags.empty() ? "" : ", ") + flag;
  report.Note("description: " + info.description);
  report.Note("build flags: " + (flags.empty() ? std::string("none") : flags));
  if (info.kind == host::Kind::kChannel) {
    report.Note("limits: max_body_bytes " + std::to_string(info.max_body_bytes) + ", max_per_second " +
                std::to_string(info.max_per_second) + " (0 = not declared)");
  }
  const auto secrets = host::SecretFields(info.config_schema);
  std::string secret_list;
  for (const auto& field : secrets) secret_list += (secret_list.empty() ? "" : ", ") + field;
  report.Pass("config schema: in the supported subset; secrets: " + (secret_list.empty() ? "none" : secret_list));
  if (info.description.empty()) report.Warn("descriptor: no description (the console shows it to platform admins)");

  // The fake host: the platform's host-services code over memory and (optionally) canned HTTP.
  std::shared_ptr<host::HttpTransport> http;
  std::shared_ptr<CannedHttpTransport> canned;
  if (samples && samples->contains("http")) {
    canned = std::make_shared<CannedHttpTransport>((*samples)["http"]);
    http = canned;
  } else {
    host::CurlOptions curl;
    curl.allow_private_addresses = options.allow_private_http;
    http = std::make_shared<host::CurlHttpTransport>(curl);
  }
  std::shared_ptr<const host::Clock> clock = std::make_shared<host::SystemClock>();
  if (samples && samples->contains("clock_unix_ms")) clock = std::make_shared<FixedClock>((*samples)["clock_unix_ms"]);
  auto logs = std::make_shared<CapturingLogSink>();
  auto services =
      std::make_shared<host::HostServices>(http, std::make_shared<host::MemoryKeyValueStore>(clock), logs, clock);
  host::Invoker invoker(services, std::make_shared<host::DeadlineExecutor>(4));
  const host::CallIdentity who{"00000000-0000-4000-8000-000000000001", info.name, info.version};
  auto flush_logs = [&] {
    for (const auto& line : logs->Take()) report.Note("log " + line);
    if (canned) {
      for (const auto& request : canned->TakeRequests()) {
        report.Note("http " + request.method + " " + request.url + " (" + std::to_string(request.headers.size()) +
                    " headers, " + std::to_string(request.body.size()) + " body bytes)");
      }
    }
  };

  // A config that is not an object must be refused by create, not crash it.
  {
    auto refused = invoker.Create(*loaded, json::array(), who, timeout);
    if (!refused.ok() && refused.error().kind == host::FailureKind::kInvalidInput) {
      report.Pass("robustness: create with a config that is not an object → invalid_input");
    } else if (!refused.ok() && refused.error().kind == host::FailureKind::kPluginError) {
      report.Warn("robustness: create with a config that is not an object → plugin_error: " + refused.error().message);
    } else if (refused.ok()) {
      report.Warn("robustness: create accepted a config that is not an object");
    } else {
      report.Fail("robustness: create with a config that is not an object → " + refused.error().message);
    }
    flush_logs();
  }

  if (!samples) {
    report.Warn("no samples file: only the descriptor, the schema and robustness were checked");
    return report.Finish();
  }

  json config = samples->value("config", json::object());
  if (auto issues = host::Validate(info.config_schema, config); issues.empty()) {
    report.Pass("sample config is valid against the schema");
  } else {
    report.Fail("sample config is refused by the schema: " + issues[0].field + ": " + issues[0].message);
    return report.Finish();
  }
  int invalid_index = 0;
  for (const auto& sample : samples->value("invalid_configs", json::array())) {
    ++invalid_index;
    const std::string label = "invalid config #" + std::to_string(invalid_index);
    auto issues = host::Validate(info.config_schema, sample.value("config", json::object()));
    const std::string field = sample.value("field", std::string());
    if (issues.empty()) {
      report.Fail(label + " was accepted by the schema");
    } else if (!field.empty() && issues[0].field != field) {
      report.Fail(label + " was refused at " + issues[0].field + ", expected " + field);
    } else {
      report.Pass(label + " refused at " + issues[0].field + ": " + issues[0].message);
    }
  }

  auto instance = invoker.Create(*loaded, config, who, timeout);
  flush_logs();
  if (!instance) {
    report.Fail("create with the sample config: " + instance.error().message);
    return report.Finish();
  }
  report.Pass("create with the sample config");

  auto check = invoker.Call(*instance, host::Operation::kCheckConfig, {}, who, timeout);
  flush_logs();
  if (check.ok()) {
    report.Pass("check_config → " + Short(*check));
  } else if (check.error().kind == host::FailureKind::kUnsupported) {
    report.Pass("check_config: not offered (the schema alone decides)");
  } else {
    report.Fail("check_config: " + check.error().message);
  }

  switch (info.kind) {
    case host::Kind::kChannel:
      Robustness(report, invoker, *instance, host::Operation::kSend, {}, "an empty input object", who, timeout);
      break;
    case host::Kind::kLeadSource:
      Robustness(report, invoker, *instance, host::Operation::kVerify, {json::object(), "\x01not a form\xff"},
                 "no headers and a garbage body", who, timeout);
      Robustness(report, invoker, *instance, host::Operation::kParse, {json::object(), "{\"unterminated"},
                 "a truncated JSON body", who, timeout);
      break;
    case host::Kind::kLoyaltyRule:
      Robustness(report, invoker, *instance, host::Operation::kEvaluate, {{{"event", {{"type", "unknown_event"}}}}, ""},
                 "an unknown event type", who, timeout);
      break;
  }
  flush_logs();

  int index = 0;
  for (const auto& call : samples->value("calls", json::array())) {
    ++index;
    const std::string name = call.value("name", "call #" + std::to_string(index));
    auto op = host::ParseOperation(call.value("op", std::string()));
    if (!op) {
      report.Fail("call \"" + name + "\": unknown op " + call.value("op", json()).dump());
      continue;
    }
    const std::string label = "call \"" + name + "\" (" + host::OperationName(*op) + ")";
    host::CallInput input{call.value("input", json::object()), call.value("body", std::string())};
    auto result = invoker.Call(*instance, *op, std::move(input), who, timeout);
    if (call.contains("expect_failure")) {
      const std::string expected = call["expect_failure"].get<std::string>();
      if (!result.ok() && expected == host::FailureKindName(result.error().kind)) {
        report.Pass(label + " → " + expected + ": " + result.error().message);
      } else {
        report.Fail(label + ": expected failure " + expected + ", got " +
                    (result.ok() ? Short(*result) : result.error().message));
      }
    } else if (!result.ok()) {
      report.Fail(label + ": " + result.error().message);
    } else {
      std::string where;
      if (Contains(*result, call.value("expect", json::object()), where)) {
        report.Pass(label + " → " + Short(*result));
      } else {
        report.Fail(label + ": " + (where.empty() ? "unexpected result" : where) + "; got " + Short(*result));
      }
    }
    flush_logs();
  }
  return report.Finish();
}

}  // namespace clinicore::sdk::testkit
