// `clinicore plugin …`: plugin files for operators. `list` and `verify` only load files (no
// database); `install` records descriptors for `serve`; `check` runs a tenant's live config
// check in this process (plugin code never runs in `serve`).
#include <iostream>

#include "platform/app/app_context.hpp"
#include "platform/cache/rate_limiter.hpp"
#include "platform/core/log.hpp"
#include "platform/plugins/plugin_host.hpp"
#include "platform/tenancy/tenant_repository.hpp"

namespace clinicore::app {
namespace {

constexpr const char* kPluginUsage =
    "usage: clinicore plugin list [--dir D]           every plugin file in D (default CLINICORE_PLUGIN_DIR)\n"
    "       clinicore plugin verify <file.so>         load one file, check its descriptor, print it\n"
    "       clinicore plugin install [<file.so>...]   record descriptors for the API (default: all of\n"
    "                                                 CLINICORE_PLUGIN_DIR; `work` does this at start too)\n"
    "       clinicore plugin installed                the descriptors the API knows\n"
    "       clinicore plugin check <tenant> <plugin>  run a tenant's live config check and record it\n"
    "       clinicore plugin rekey                    re-seal every stored secret under CLINICORE_PLUGIN_SECRET_KEY\n"
    "                                                 (the old key in CLINICORE_PLUGIN_SECRET_KEYS_PREVIOUS)\n";

std::string PluginLine(const sdk::host::PluginInfo& info) {
  return info.name + "\t" + info.version + "\t" + sdk::host::KindName(info.kind) + "\tABI " +
         std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor) + "\t" + info.file;
}

int List(const std::string& directory) {
  if (directory.empty()) {
    std::cerr << "clinicore plugin list: no folder (set CLINICORE_PLUGIN_DIR or pass --dir)\n";
    return 2;
  }
  sdk::host::PluginCatalog catalog;
  const auto refusals = catalog.LoadDirectory(directory);
  for (const auto& plugin : catalog.All()) std::cout << PluginLine(plugin->info()) << "\n";
  for (const auto& refusal : refusals) std::cerr << refusal.message << "\n";
  std::cout << catalog.All().size() << " plugin(s) loaded, " << refusals.size() << " refused" << std::endl;
  return refusals.empty() ? 0 : 1;
}

int Verify(const std::string& file) {
  auto loaded = sdk::host::LoadPlugin(file);
  if (!loaded) {
    std::cerr << loaded.error().message << std::endl;
    return 1;
  }
  nlohmann::json described = (*loaded)->info().ToJson();
  described["file"] = file;
  std::cout << described.dump(2) << std::endl;
  return 0;
}

// Exit 0 when every stored secret is sealed under the current key now; 1 when some could not be.
int Rekey(plugins::PluginService& service) {
  auto report = service.Rekey();
  if (!report) {
    std::cerr << "clinicore plugin rekey: " << report.error().detail << "\n";
    return report.error().code == core::ErrorCode::kFailedPrecondition ? 2 : 1;
  }
  for (const auto& failure : report->failed) {
    std::cerr << "not rekeyed\ttenant " << failure.tenant_id << "\tplugin " << failure.plugin_name << "\t"
              << failure.detail << "\n";
  }
  std::cout << "key " << report->key_id << ": " << report->rekeyed << " re-sealed, " << report->current
            << " already under it, " << report->failed.size() << " failed" << std::endl;
  return report->failed.empty() ? 0 : 1;
}

std::string CliActor() {
  return "cli:plugin";
}

}  // namespace

std::shared_ptr<plugins::PluginService> MakePluginService(AppContext& context, const core::Config& config) {
  std::optional<plugins::SecretBox> box;
  if (!config.plugins.secret_key.empty()) {
    auto made = plugins::SecretBox::FromBase64(config.plugins.secret_key, config.plugins.previous_secret_keys);
    if (made) box = std::move(made).value();  // the shape was checked with the configuration
  }
  return std::make_shared<plugins::PluginService>(context.database, std::move(box), config.plugins.quarantine_after);
}

std::shared_ptr<plugins::PluginHost> MakePluginHost(AppContext& context, const core::Config& config,
                                                    const std::string& actor) {
  plugins::PluginHostOptions options;
  options.call_timeout = config.plugins.call_timeout;
  options.max_stuck_calls = config.plugins.max_stuck_calls;
  options.log_lines_per_second = config.plugins.log_lines_per_second;
  options.http.allow_private_addresses = config.plugins.http_allow_private;
  options.http.max_timeout = config.plugins.http_timeout;
  auto host = std::make_shared<plugins::PluginHost>(
      context.database, MakePluginService(context, config), options, nullptr,
      std::make_shared<cache::RateLimiter>(context.redis, context.metrics));  // channels' declared send rates
  if (!config.plugins.dir.empty()) {
    const auto problems = host->InstallDirectory(config.plugins.dir, actor);
    core::log::Info(
        "plugins_loaded",
        {{"dir", config.plugins.dir}, {"loaded", host->catalog().All().size()}, {"refused", problems.size()}});
  }
  return host;
}

int PluginCommand(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kPluginUsage;
    return 2;
  }
  const std::string action = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (action == "verify") {
    if (args.size() != 1) {
      std::cerr << kPluginUsage;
      return 2;
    }
    return Verify(args[0]);
  }
  auto config = LoadConfigOrExplain();
  if (!config) return 2;
  if (action == "list") {
    std::string directory = config->plugins.dir;
    if (args.size() == 2 && args[0] == "--dir") {
      directory = args[1];
    } else if (!args.empty()) {
      std::cerr << kPluginUsage;
      return 2;
    }
    return List(directory);
  }

  AppContext context(*config);
  if (action == "install") {
    plugins::PluginHostOptions options;
    plugins::PluginHost host(context.database, MakePluginService(context, *config), options);
    std::vector<std::string> problems;
    if (args.empty()) {
      if (config->plugins.dir.empty()) {
        std::cerr << "clinicore plugin install: no files given and CLINICORE_PLUGIN_DIR is not set\n";
        return 2;
      }
      problems = host.InstallDirectory(config->plugins.dir, CliActor());
    } else {
      for (const auto& file : args) {
        auto installed = host.Install(file, CliActor());
        if (!installed) problems.push_back(installed.error().detail);
      }
    }
    for (const auto& plugin : host.catalog().All()) std::cout << "installed\t" << PluginLine(plugin->info()) << "\n";
    for (const auto& problem : problems) std::cerr << problem << "\n";
    std::cout << std::flush;
    return problems.empty() ? 0 : 1;
  }
  if (action == "installed") {
    auto installed = MakePluginService(context, *config)->ListInstalled();
    if (!installed) {
      std::cerr << "clinicore plugin installed: " << installed.error().detail << "\n";
      return 1;
    }
    for (const auto& plugin : *installed) {
      std::cout << plugin.name << "\t" << plugin.version << "\t" << plugin.kind << "\t" << plugin.file_name << "\t"
                << plugin.file_sha256.substr(0, 12) << "\t" << plugin.installed_at << "\n";
    }
    std::cout << std::flush;
    return 0;
  }
  if (action == "check") {
    if (args.size() != 2) {
      std::cerr << kPluginUsage;
      return 2;
    }
    auto tenant = context.database.Read([&](db::Transaction& tx) -> core::Result<tenancy::Tenant> {
      auto found = tenancy::TenantRepository::FindByKey(tx, args[0]);
      if (!found) return core::Error::NotFound("No tenant with this id or slug.");
      return *found;
    });
    if (!tenant) {
      std::cerr << "clinicore plugin check: " << tenant.error().detail << "\n";
      return 2;
    }
    auto host = MakePluginHost(context, *config, CliActor());
    auto checked = host->CheckConfig(*tenant, args[1]);
    if (!checked) {
      std::cerr << "clinicore plugin check: " << checked.error().detail << "\n";
      return 1;
    }
    std::cout << checked->dump(2) << std::endl;
    return checked->value("ok", false) ? 0 : 1;
  }
  if (action == "rekey") {
    if (!args.empty()) {
      std::cerr << kPluginUsage;
      return 2;
    }
    return Rekey(*MakePluginService(context, *config));
  }
  std::cerr << "clinicore plugin: unknown action '" << action << "'\n" << kPluginUsage;
  return 2;
}

}  // namespace clinicore::app
