// The loader's refusals against real shared objects built by the test build (testdata/), each
// with its one message naming the file and the field.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "clinicore/sdk/host/loader.hpp"

namespace clinicore::plugins {
namespace {

using sdk::host::PluginCatalog;

std::string Plugin(const std::string& name) {
  return std::string(CLINICORE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

sdk::host::Refusal Refusal(const std::string& path) {
  auto loaded = sdk::host::LoadPlugin(path);
  EXPECT_FALSE(loaded.ok()) << path << " was accepted";
  return loaded.ok() ? sdk::host::Refusal{} : loaded.error();
}

TEST(PluginLoaderTest, LoadsAGoodPluginAndNeverUnloadsIt) {
  {
    PluginCatalog catalog;
    auto loaded = catalog.Load(Plugin("misbehaving"));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ((*loaded)->info().name, "misbehaving");
    EXPECT_EQ((*loaded)->info().version, "1.0.0");
    EXPECT_EQ((*loaded)->info().kind, sdk::host::Kind::kChannel);
    EXPECT_EQ(catalog.Find("misbehaving", "1.0.0"), *loaded);
    // Loading the same file again is the same plugin, not a duplicate.
    EXPECT_EQ(*catalog.Load(Plugin("misbehaving")), *loaded);
  }
  // The catalog is gone; the library is still mapped.
  void* handle = dlopen(Plugin("misbehaving").c_str(), RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(handle, nullptr);
  if (handle != nullptr) dlclose(handle);
}

TEST(PluginLoaderTest, RefusesAWrongMagic) {
  const auto refusal = Refusal(Plugin("bad_magic"));
  EXPECT_EQ(refusal.field, "magic");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("bad_magic") +
                                 " refused: magic is 0x0000000000000bad, expected 0x31474c50434e4c43 (\"CLNCPLG1\"): "
                                 "this is not a clinicore plugin descriptor");
}

TEST(PluginLoaderTest, RefusesAnotherAbiMajor) {
  const auto refusal = Refusal(Plugin("bad_abi_major"));
  EXPECT_EQ(refusal.field, "abi_major");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("bad_abi_major") +
                                 " refused: abi_major is 2, but this host speaks SDK ABI 1 (rebuild the plugin "
                                 "against SDK 1.x)");
}

TEST(PluginLoaderTest, RefusesANewerAbiMinor) {
  const auto refusal = Refusal(Plugin("newer_abi_minor"));
  EXPECT_EQ(refusal.field, "abi_minor");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("newer_abi_minor") +
                                 " refused: abi_minor is 1, newer than this host's SDK ABI 1.0 (upgrade the "
                                 "platform, or build the plugin against SDK 1.0)");
}

TEST(PluginLoaderTest, RefusesAnUnknownKind) {
  const auto refusal = Refusal(Plugin("unknown_kind"));
  EXPECT_EQ(refusal.field, "kind");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("unknown_kind") +
                                 " refused: kind is 9, expected 1 (channel), 2 (lead_source) or 3 (loyalty_rule)");
}

TEST(PluginLoaderTest, RefusesAMissingSymbolWithTheLoadersOwnText) {
  const auto refusal = Refusal(Plugin("missing_symbol"));
  EXPECT_EQ(refusal.field, "symbol");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("missing_symbol") +
                                 " refused: a symbol it needs is missing: " + Plugin("missing_symbol") +
                                 ": undefined symbol: clinicore_test_symbol_that_does_not_exist");
}

TEST(PluginLoaderTest, RefusesALibraryThatIsNotAPlugin) {
  const auto refusal = Refusal(Plugin("no_entry"));
  EXPECT_EQ(refusal.field, "clinicore_plugin_entry");
  EXPECT_EQ(refusal.message, "plugin " + Plugin("no_entry") +
                                 " refused: not a clinicore plugin: it exports no symbol clinicore_plugin_entry");
}

TEST(PluginLoaderTest, RefusesAFileThatIsNotAnElfSharedObject) {
  const auto text = std::filesystem::temp_directory_path() / ("not-elf-" + std::to_string(::getpid()) + ".so");
  std::ofstream(text) << "hello world, I am not a library\n";
  const auto refusal = Refusal(text.string());
  EXPECT_EQ(refusal.field, "file");
  EXPECT_EQ(refusal.message,
            "plugin " + text.string() + " refused: not an ELF shared object (it starts with \"hello wo\")");
  std::filesystem::remove(text);

  const auto missing = Refusal("/nonexistent/plugin.so");
  EXPECT_EQ(missing.message, "plugin /nonexistent/plugin.so refused: no such file");
}

TEST(PluginLoaderTest, RefusesADuplicateNameAndVersionFromAnotherFile) {
  PluginCatalog catalog;
  ASSERT_TRUE(catalog.Load(Plugin("misbehaving")).ok());
  auto duplicate = catalog.Load(Plugin("duplicate"));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().field, "name+version");
  EXPECT_EQ(duplicate.error().message, "plugin " + Plugin("duplicate") +
                                           " refused: name+version misbehaving 1.0.0 is already loaded from " +
                                           Plugin("misbehaving"));
}

TEST(PluginLoaderTest, LoadDirectoryReportsEveryRefusal) {
  PluginCatalog catalog;
  const auto refusals = catalog.LoadDirectory(CLINICORE_TEST_PLUGIN_DIR);
  std::vector<std::string> fields;
  for (const auto& refusal : refusals) fields.push_back(refusal.field);
  // In file name order: bad_abi_major, bad_magic, duplicate (accepted: it comes before its twin),
  // misbehaving (the twin: refused), missing_symbol, newer_abi_minor, no_entry, throttled
  // (accepted: another name), unknown_kind.
  EXPECT_EQ(fields, (std::vector<std::string>{"abi_major", "magic", "name+version", "symbol", "abi_minor",
                                              "clinicore_plugin_entry", "kind"}));
  EXPECT_EQ(catalog.All().size(), 2u);
}

}  // namespace
}  // namespace clinicore::plugins
