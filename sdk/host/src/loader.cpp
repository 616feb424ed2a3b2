#include "clinicore/sdk/host/loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "clinicore/sdk/host/schema.hpp"

namespace clinicore::sdk::host {
namespace {

// The smallest descriptor / ops tables of ABI 1.0: every field up to and including the last
// one 1.0 defines. A plugin built against a later minor has bigger ones; the host reads only
// what it knows.
constexpr size_t kDescriptorMinSize = offsetof(clinicore_plugin_descriptor, kind_ops) + sizeof(void*);
constexpr size_t kChannelOpsMinSize = offsetof(clinicore_channel_ops, send) + sizeof(void*);
constexpr size_t kLeadSourceOpsMinSize = offsetof(clinicore_lead_source_ops, import_csv) + sizeof(void*);
constexpr size_t kLoyaltyRuleOpsMinSize = offsetof(clinicore_loyalty_rule_ops, tier) + sizeof(void*);

Refusal Refuse(const std::string& file, std::string field, const std::string& what) {
  Refusal refusal{file, std::move(field), ""};
  refusal.message = "plugin " + (file.empty() ? std::string("<memory>") : file) + " refused: " + what;
  return refusal;
}

std::string Hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

// A NUL-terminated string of at most `max` bytes, or nullopt.
std::optional<std::string> BoundedString(const char* text, size_t max) {
  if (text == nullptr) return std::nullopt;
  const size_t length = strnlen(text, max + 1);
  if (length > max) return std::nullopt;
  return std::string(text, length);
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out;
}

// A process-wide list of handles that is never destroyed: libraries are never unloaded.
std::vector<boost::dll::shared_library>& KeptLibraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}
std::mutex& KeptLibrariesMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return "channel";
    case Kind::kLeadSource:
      return "lead_source";
    case Kind::kLoyaltyRule:
      return "loyalty_rule";
  }
  return "unknown";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind kind : {Kind::kChannel, Kind::kLeadSource, Kind::kLoyaltyRule}) {
    if (name == KindName(kind)) return kind;
  }
  return std::nullopt;
}

std::vector<std::string> BuildFlagNames(uint32_t flags) {
  std::vector<std::string> names;
  if (flags & CLINICORE_BUILD_DEBUG) names.emplace_back("debug");
  if (flags & CLINICORE_BUILD_SANITIZED) names.emplace_back("sanitized");
  if (flags & CLINICORE_BUILD_CXX_LAYER) names.emplace_back("cxx_layer");
  const uint32_t unknown = flags & ~(CLINICORE_BUILD_DEBUG | CLINICORE_BUILD_SANITIZED | CLINICORE_BUILD_CXX_LAYER);
  if (unknown != 0) names.push_back("unknown:" + Hex(unknown));
  return names;
}

nlohmann::json PluginInfo::ToJson() const {
  nlohmann::json limits = nlohmann::json::object();
  if (kind == Kind::kChannel) {
    limits["max_body_bytes"] = max_body_bytes == 0 ? nlohmann::json(nullptr) : nlohmann::json(max_body_bytes);
    limits["max_per_second"] = max_per_second == 0 ? nlohmann::json(nullptr) : nlohmann::json(max_per_second);
  }
  return {{"name", name},
          {"version", version},
          {"kind", KindName(kind)},
          {"description", description},
          {"abi", std::to_string(abi_major) + "." + std::to_string(abi_minor)},
          {"build_flags", BuildFlagNames(build_flags)},
          {"has_check_config", has_check_config},
          {"limits", limits},
          {"config_schema", config_schema}};
}

Expected<PluginInfo, Refusal> CheckDescriptor(const clinicore_plugin_descriptor* d, const std::string& file) {
  if (d == nullptr) return Refuse(file, "clinicore_plugin_entry", "clinicore_plugin_entry returned NULL");
  if (d->magic != CLINICORE_PLUGIN_MAGIC) {
    return Refuse(file, "magic",
                  "magic is " + Hex(d->magic) + ", expected " + Hex(CLINICORE_PLUGIN_MAGIC) +
                      " (\"CLNCPLG1\"): this is not a clinicore plugin descriptor");
  }
  if (d->struct_size < kDescriptorMinSize) {
    return Refuse(file, "struct_size",
                  "struct_size is " + std::to_string(d->struct_size) + ", smaller than the " +
                      std::to_string(kDescriptorMinSize) + " bytes of an SDK ABI 1.0 descriptor");
  }
  if (d->abi_major != kHostAbiMajor) {
    return Refuse(file, "abi_major",
                  "abi_major is " + std::to_string(d->abi_major) + ", but this host speaks SDK ABI " +
                      std::to_string(kHostAbiMajor) + " (rebuild the plugin against SDK " +
                      std::to_string(kHostAbiMajor) + ".x)");
  }
  if (d->abi_minor > kHostAbiMinor) {
    return Refuse(file, "abi_minor",
                  "abi_minor is " + std::to_string(d->abi_minor) + ", newer than this host's SDK ABI " +
                      std::to_string(kHostAbiMajor) + "." + std::to_string(kHostAbiMinor) +
                      " (upgrade the platform, or build the plugin against SDK " + std::to_string(kHostAbiMajor) + "." +
                      std::to_string(kHostAbiMinor) + ")");
  }
  if (d->kind != CLINICORE_KIND_CHANNEL && d->kind != CLINICORE_KIND_LEAD_SOURCE &&
      d->kind != CLINICORE_KIND_LOYALTY_RULE) {
    return Refuse(file, "kind",
                  "kind is " + std::to_string(d->kind) + ", expected 1 (channel), 2 (lead_source) or 3 (loyalty_rule)");
  }
  PluginInfo info;
  info.file = file;
  info.kind = static_cast<Kind>(d->kind);
  info.abi_major = d->abi_major;
  info.abi_minor = d->abi_minor;
  info.build_flags = d->build_flags;

  static const std::regex kName("^[a-z][a-z0-9-]{1,62}$");
  static const std::regex kVersion(
      R"(^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})([-+][0-9A-Za-z.-]{1,40})?$)");
  auto name = BoundedString(d->name, 63);
  if (!name || !std::regex_match(*name, kName)) {
    return Refuse(file, "name",
                  "name " + (name ? "\"" + Printable(*name) + "\"" : std::string("is missing or too long")) +
                      " must be 2 to 63 of [a-z0-9-], starting with a letter");
  }
  info.name = *name;
  auto version = BoundedString(d->version, 64);
  if (!version || !std::regex_match(*version, kVersion)) {
    return Refuse(file, "version",
                  "version " + (version ? "\"" + Printable(*version) + "\"" : std::string("is missing or too long")) +
                      " must be a semantic version such as 1.2.0");
  }
  info.version = *version;
  if (d->description != nullptr) {
    auto description = BoundedString(d->description, 500);
    if (!description) return Refuse(file, "description", "description is longer than 500 bytes");
    info.description = *description;
  }
  auto schema_text = BoundedString(d->config_schema, 256 * 1024);
  if (!schema_text) return Refuse(file, "config_schema", "config_schema is missing or longer than 256 KiB");
  nlohmann::json schema = nlohmann::json::parse(*schema_text, nullptr, false);
  if (schema.is_discarded()) return Refuse(file, "config_schema", "config_schema is not valid JSON");
  if (auto issues = CheckSchema(schema); !issues.empty()) {
    return Refuse(file, "config_schema",
                  "config_schema is outside the supported subset: " +
                      (issues[0].field.empty() ? "" : issues[0].field + ": ") + issues[0].message);
  }
  info.config_schema = std::move(schema);
  if (d->create == nullptr) return Refuse(file, "create", "create is NULL");
  if (d->destroy == nullptr) return Refuse(file, "destroy", "destroy is NULL");
  info.has_check_config = d->check_config != nullptr;
  if (d->kind_ops == nullptr) return Refuse(file, "kind_ops", "kind_ops is NULL");

  switch (info.kind) {
    case Kind::kChannel: {
      const auto* ops = static_cast<const clinicore_channel_ops*>(d->kind_ops);
      if (ops->struct_size < kChannelOpsMinSize) {
        return Refuse(file, "kind_ops.struct_size",
                      "kind_ops.struct_size is " + std::to_string(ops->struct_size) + ", smaller than the " +
                          std::to_string(kChannelOpsMinSize) + " bytes of SDK ABI 1.0 channel operations");
      }
      if (ops->send == nullptr) return Refuse(file, "send", "kind_ops.send is NULL (a channel must send)");
      info.max_body_bytes = ops->max_body_bytes;
      info.max_per_second = ops->max_per_second;
      break;
    }
    case Kind::kLeadSource: {
      const auto* ops = static_cast<const clinicore_lead_source_ops*>(d->kind_ops);
      if (ops->struct_size < kLeadSourceOpsMinSize) {
        return Refuse(file, "kind_ops.struct_size",
                      "kind_ops.struct_size is " + std::to_string(ops->struct_size) + ", smaller than the " +
                          std::to_string(kLeadSourceOpsMinSize) + " bytes of SDK ABI 1.0 lead source operations");
      }
      if (ops->verify == nullptr) return Refuse(file, "verify", "kind_ops.verify is NULL (a lead source must verify)");
      if (ops->parse == nullptr) return Refuse(file, "parse", "kind_ops.parse is NULL (a lead source must parse)");
      break;
    }
    case Kind::kLoyaltyRule: {
      const auto* ops = static_cast<const clinicore_loyalty_rule_ops*>(d->kind_ops);
      if (ops->struct_size < kLoyaltyRuleOpsMinSize) {
        return Refuse(file, "kind_ops.struct_size",
                      "kind_ops.struct_size is " + std::to_string(ops->struct_size) + ", smaller than the " +
                          std::to_string(kLoyaltyRuleOpsMinSize) + " bytes of SDK ABI 1.0 loyalty rule operations");
      }
      if (ops->evaluate == nullptr) {
        return Refuse(file, "evaluate", "kind_ops.evaluate is NULL (a loyalty rule must evaluate)");
      }
      break;
    }
  }
  return info;
}

Expected<std::shared_ptr<const LoadedPlugin>, Refusal> LoadPlugin(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return Refuse(path, "file", "no such file");
  if (!std::filesystem::is_regular_file(status)) return Refuse(path, "file", "not a regular file");

  // An ELF shared object (e_type ET_DYN) before dlopen sees it, so "not a plugin at all" gets
  // a plain answer instead of a loader error.
  {
    std::ifstream in(path, std::ios::binary);
    char header[18] = {};
    in.read(header, sizeof header);
    const auto got = static_cast<size_t>(in.gcount());
    if (got < 4 || std::memcmp(header,
                               "\x7f"
                               "ELF",
                               4) != 0) {
      return Refuse(path, "file",
                    "not an ELF shared object (it starts with \"" +
                        Printable(std::string_view(header, std::min<size_t>(got, 8))) + "\")");
    }
    if (got == sizeof header) {
      const bool little = header[5] == 1;
      const auto b0 = static_cast<unsigned char>(header[16]), b1 = static_cast<unsigned char>(header[17]);
      const unsigned type = little ? (b0 | (b1 << 8)) : ((b0 << 8) | b1);
      if (type != 3) {  // ET_DYN
        const char* what = type == 1   ? "a relocatable object file (.o)"
                           : type == 2 ? "an executable"
                                       : "another ELF type";
        return Refuse(path, "file", std::string("not an ELF shared object: it is ") + what);
      }
    }
  }

  boost::dll::shared_library library;
  try {
    // rtld_now: every symbol is resolved here, so a missing one refuses the plugin at load time
    // instead of crashing a call later; rtld_local: its symbols never satisfy another library's.
    // RTLD_NODELETE: even a dropped handle never unmaps it.
    const auto mode = static_cast<boost::dll::load_mode::type>(
        static_cast<unsigned>(boost::dll::load_mode::rtld_now) |
        static_cast<unsigned>(boost::dll::load_mode::rtld_local) | RTLD_NODELETE);
    library.load(boost::dll::fs::path(path), mode);
  } catch (const std::exception& e) {
    // Boost.DLL appends the loader's own text: "... (dlerror system message: <dlerror>)".
    std::string text = e.what();
    const std::string marker = "dlerror system message: ";
    if (auto at = text.find(marker); at != std::string::npos) {
      // What follows is "<dlerror>)" and then std::system_error's ": <error code text>".
      text = text.substr(at + marker.size());
      if (auto close = text.rfind(')'); close != std::string::npos) text.resize(close);
    }
    if (text.find("undefined symbol") != std::string::npos) {
      return Refuse(path, "symbol", "a symbol it needs is missing: " + text);
    }
    return Refuse(path, "file", "the dynamic loader refused it: " + text);
  }
  {
    std::lock_guard lock(KeptLibrariesMutex());
    KeptLibraries().push_back(library);  // never closed
  }
  if (!library.has(CLINICORE_PLUGIN_ENTRY_SYMBOL)) {
    return Refuse(path, "clinicore_plugin_entry",
                  "not a clinicore plugin: it exports no symbol clinicore_plugin_entry");
  }
  auto entry = library.get<const clinicore_plugin_descriptor*()>(CLINICORE_PLUGIN_ENTRY_SYMBOL);
  const clinicore_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (...) {
    return Refuse(path, "clinicore_plugin_entry", "clinicore_plugin_entry threw an exception");
  }
  auto info = CheckDescriptor(descriptor, path);
  if (!info) return std::move(info).error();
  return std::shared_ptr<const LoadedPlugin>(std::make_shared<LoadedPlugin>(std::move(info).value(), descriptor));
}

Expected<std::shared_ptr<const LoadedPlugin>, Refusal> PluginCatalog::Load(const std::string& path) {
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec) key = path;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_file_.find(key); it != by_file_.end()) return it->second;
  }
  auto loaded = LoadPlugin(path);
  if (!loaded) return loaded;
  const PluginInfo& info = (*loaded)->info();
  std::lock_guard lock(mutex_);
  auto id = std::make_pair(info.name, info.version);
  if (auto it = plugins_.find(id); it != plugins_.end()) {
    return Refuse(
        path, "name+version",
        "name+version " + info.name + " " + info.version + " is already loaded from " + it->second->info().file);
  }
  plugins_.emplace(id, *loaded);
  by_file_.emplace(key, *loaded);
  return loaded;
}

std::vector<Refusal> PluginCatalog::LoadDirectory(const std::string& directory) {
  std::vector<Refusal> refusals;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    if (entry.path().extension() == ".so") files.push_back(entry.path().string());
  }
  if (ec) {
    refusals.push_back({directory, "directory", "plugin directory " + directory + " cannot be read: " + ec.message()});
    return refusals;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto loaded = Load(file);
    if (!loaded) refusals.push_back(std::move(loaded).error());
  }
  return refusals;
}

std::shared_ptr<const LoadedPlugin> PluginCatalog::Find(const std::string& name, const std::string& version) const {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find({name, version});
  return it == plugins_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const LoadedPlugin>> PluginCatalog::All() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const LoadedPlugin>> all;
  for (const auto& [id, plugin] : plugins_) all.push_back(plugin);
  return all;
}

}  // namespace clinicore::sdk::host
