#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clinicore/sdk/abi.h"
#include "clinicore/sdk/host/expected.hpp"

namespace clinicore::sdk::host {

// The ABI this host speaks: the SDK headers it was built with.
inline constexpr uint16_t kHostAbiMajor = CLINICORE_SDK_ABI_MAJOR;
inline constexpr uint16_t kHostAbiMinor = CLINICORE_SDK_ABI_MINOR;

enum class Kind : uint32_t {
  kChannel = CLINICORE_KIND_CHANNEL,
  kLeadSource = CLINICORE_KIND_LEAD_SOURCE,
  kLoyaltyRule = CLINICORE_KIND_LOYALTY_RULE,
};

const char* KindName(Kind kind);  // "channel", "lead_source", "loyalty_rule"
std::optional<Kind> ParseKind(std::string_view name);

// What the descriptor says, copied out once it passed every check.
struct PluginInfo {
  std::string file;  // the path it was loaded from ("" for a descriptor checked in memory)
  std::string name;
  std::string version;
  std::string description;
  Kind kind = Kind::kChannel;
  uint16_t abi_major = 0;
  uint16_t abi_minor = 0;
  uint32_t build_flags = 0;
  nlohmann::json config_schema;
  uint32_t max_body_bytes = 0;  // channels: declared limits (0 = not declared)
  uint32_t max_per_second = 0;
  bool has_check_config = false;

  // {"name","version","kind","description","abi":"1.0","build_flags":[...],"config_schema",
  //  "limits":{...}}: what `clinicore plugin verify` prints and platform.plugin_installs stores.
  nlohmann::json ToJson() const;
};

std::vector<std::string> BuildFlagNames(uint32_t flags);

// A refusal names the file and the one field that is wrong; `message` is the whole line, e.g.
// "plugin /p/x.so refused: abi_major is 2, but this host speaks SDK ABI 1 (rebuild the plugin
// against SDK 1.x)".
struct Refusal {
  std::string file;
  std::string field;  // "file", "symbol", "clinicore_plugin_entry", "magic", "struct_size",
                      // "abi_major", "abi_minor", "kind", "name", "version", "description",
                      // "config_schema", "create", "destroy", "kind_ops", "send", ...,
                      // "name+version"
  std::string message;
};

// Checks a descriptor in memory, field by field in ABI order, and stops at the first problem.
// Reads nothing past `magic` unless the magic is right, and nothing past struct_size.
Expected<PluginInfo, Refusal> CheckDescriptor(const clinicore_plugin_descriptor* descriptor, const std::string& file);

// A plugin library that passed the checks. The library stays loaded for the life of the
// process (RTLD_NODELETE, and its handle is never closed): a new version is a new file.
class LoadedPlugin {
 public:
  LoadedPlugin(PluginInfo info, const clinicore_plugin_descriptor* descriptor)
      : info_(std::move(info)), descriptor_(descriptor) {}
  const PluginInfo& info() const { return info_; }
  const clinicore_plugin_descriptor& descriptor() const { return *descriptor_; }
  // Kind-specific operations (the pointer the descriptor's kind_ops holds).
  const clinicore_channel_ops& channel() const {
    return *static_cast<const clinicore_channel_ops*>(descriptor_->kind_ops);
  }
  const clinicore_lead_source_ops& lead_source() const {
    return *static_cast<const clinicore_lead_source_ops*>(descriptor_->kind_ops);
  }
  const clinicore_loyalty_rule_ops& loyalty_rule() const {
    return *static_cast<const clinicore_loyalty_rule_ops*>(descriptor_->kind_ops);
  }

 private:
  PluginInfo info_;
  const clinicore_plugin_descriptor* descriptor_;
};

// Loads one file with Boost.DLL (rtld_now | rtld_local) and checks it before anything else:
// the file is an ELF shared object; dlopen resolves every symbol now (a missing one is refused
// with the loader's own "undefined symbol" text); the entry symbol exists; the descriptor
// passes CheckDescriptor. Runs the library's static initialisers and the entry function, and
// nothing else of the plugin.
Expected<std::shared_ptr<const LoadedPlugin>, Refusal> LoadPlugin(const std::string& path);

// The plugins one process has loaded, unique by name + version. Thread-safe.
class PluginCatalog {
 public:
  // Loads a file; the same file again returns the plugin already loaded; another file with a
  // name + version already loaded is refused (field "name+version").
  Expected<std::shared_ptr<const LoadedPlugin>, Refusal> Load(const std::string& path);
  // Loads every *.so in a folder (sorted by name); returns the refusals.
  std::vector<Refusal> LoadDirectory(const std::string& directory);

  std::shared_ptr<const LoadedPlugin> Find(const std::string& name, const std::string& version) const;
  std::vector<std::shared_ptr<const LoadedPlugin>> All() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const LoadedPlugin>> plugins_;
  std::map<std::string, std::shared_ptr<const LoadedPlugin>> by_file_;
};

}  // namespace clinicore::sdk::host
