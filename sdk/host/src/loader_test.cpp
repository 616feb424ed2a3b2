// Descriptor checks in memory (the refusals that need a real .so file are tested in
// platform/plugins/plugin_loader_test.cpp against bad plugins built by the test build).
#include "clinicore/sdk/host/loader.hpp"

#include <gtest/gtest.h>

#include <cstddef>

namespace clinicore::sdk::host {
namespace {

// The ABI 1.0 layout on x86-64 (docs/decisions/0006-plugin-boundary.md): changing any of these
// is a major version (docs/sdk-versioning.md).
static_assert(sizeof(void*) == 8, "the layout below is the 64-bit one");
static_assert(offsetof(clinicore_plugin_descriptor, magic) == 0);
static_assert(offsetof(clinicore_plugin_descriptor, struct_size) == 8);
static_assert(offsetof(clinicore_plugin_descriptor, abi_major) == 12);
static_assert(offsetof(clinicore_plugin_descriptor, abi_minor) == 14);
static_assert(offsetof(clinicore_plugin_descriptor, build_flags) == 16);
static_assert(offsetof(clinicore_plugin_descriptor, kind) == 20);
static_assert(offsetof(clinicore_plugin_descriptor, name) == 24);
static_assert(offsetof(clinicore_plugin_descriptor, config_schema) == 48);
static_assert(offsetof(clinicore_plugin_descriptor, create) == 56);
static_assert(offsetof(clinicore_plugin_descriptor, kind_ops) == 80);
static_assert(sizeof(clinicore_plugin_descriptor) == 88);
static_assert(offsetof(clinicore_channel_ops, send) == 16 && sizeof(clinicore_channel_ops) == 24);
static_assert(offsetof(clinicore_lead_source_ops, import_csv) == 24 && sizeof(clinicore_lead_source_ops) == 32);
static_assert(offsetof(clinicore_loyalty_rule_ops, tier) == 16 && sizeof(clinicore_loyalty_rule_ops) == 24);
static_assert(offsetof(clinicore_host_services, progress) == 64 && sizeof(clinicore_host_services) == 72);

int32_t Create(const clinicore_host*, const char*, size_t, void** instance, clinicore_sink*) {
  static int token = 0;
  *instance = &token;
  return CLINICORE_OK;
}
void Destroy(void*) {}
int32_t Send(void*, const clinicore_host*, const char*, size_t, clinicore_sink*) {
  return CLINICORE_OK;
}

clinicore_channel_ops g_ops{sizeof(clinicore_channel_ops), 1024, 5, 0, &Send};

clinicore_plugin_descriptor Valid() {
  clinicore_plugin_descriptor d{};
  d.magic = CLINICORE_PLUGIN_MAGIC;
  d.struct_size = sizeof d;
  d.abi_major = CLINICORE_SDK_ABI_MAJOR;
  d.abi_minor = CLINICORE_SDK_ABI_MINOR;
  d.kind = CLINICORE_KIND_CHANNEL;
  d.name = "test-channel";
  d.version = "1.2.3";
  d.description = "a test";
  d.config_schema = R"({"type":"object","properties":{"a":{"type":"string"}}})";
  d.create = &Create;
  d.destroy = &Destroy;
  d.kind_ops = &g_ops;
  return d;
}

Refusal RefusalFor(const clinicore_plugin_descriptor& d) {
  auto checked = CheckDescriptor(&d, "/p/x.so");
  return checked.ok() ? Refusal{"", "(accepted)", ""} : checked.error();
}

TEST(DescriptorCheckTest, AcceptsAValidDescriptor) {
  const auto d = Valid();
  auto info = CheckDescriptor(&d, "/p/x.so");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->name, "test-channel");
  EXPECT_EQ(info->version, "1.2.3");
  EXPECT_EQ(info->kind, Kind::kChannel);
  EXPECT_EQ(info->max_body_bytes, 1024u);
  EXPECT_EQ(info->max_per_second, 5u);
  EXPECT_FALSE(info->has_check_config);
  EXPECT_EQ(info->ToJson()["abi"], "1.0");
  EXPECT_EQ(info->ToJson()["limits"]["max_body_bytes"], 1024);
}

TEST(DescriptorCheckTest, RefusesEachFieldWithOneMessageNamingTheFileAndTheField) {
  auto d = Valid();
  d.magic = 0xbad;
  EXPECT_EQ(RefusalFor(d).message,
            "plugin /p/x.so refused: magic is 0x0000000000000bad, expected 0x31474c50434e4c43 (\"CLNCPLG1\"): this is "
            "not a clinicore plugin descriptor");
  d = Valid();
  d.struct_size = 16;
  EXPECT_EQ(RefusalFor(d).field, "struct_size");
  d = Valid();
  d.abi_major = 2;
  EXPECT_EQ(RefusalFor(d).message,
            "plugin /p/x.so refused: abi_major is 2, but this host speaks SDK ABI 1 (rebuild the plugin against SDK "
            "1.x)");
  d = Valid();
  d.abi_minor = CLINICORE_SDK_ABI_MINOR + 1;
  EXPECT_EQ(RefusalFor(d).field, "abi_minor");
  d = Valid();
  d.kind = 9;
  EXPECT_EQ(RefusalFor(d).message,
            "plugin /p/x.so refused: kind is 9, expected 1 (channel), 2 (lead_source) or 3 (loyalty_rule)");
  d = Valid();
  d.name = "Bad Name";
  EXPECT_EQ(RefusalFor(d).field, "name");
  d.name = nullptr;
  EXPECT_EQ(RefusalFor(d).field, "name");
  d = Valid();
  d.version = "latest";
  EXPECT_EQ(RefusalFor(d).field, "version");
  d = Valid();
  d.config_schema = "{not json";
  EXPECT_EQ(RefusalFor(d).message, "plugin /p/x.so refused: config_schema is not valid JSON");
  d.config_schema = R"({"type":"object","properties":{"a":{"anyOf":[]}}})";
  EXPECT_EQ(RefusalFor(d).field, "config_schema");
  d = Valid();
  d.create = nullptr;
  EXPECT_EQ(RefusalFor(d).field, "create");
  d = Valid();
  d.kind_ops = nullptr;
  EXPECT_EQ(RefusalFor(d).field, "kind_ops");
  clinicore_channel_ops no_send{sizeof(clinicore_channel_ops), 0, 0, 0, nullptr};
  d = Valid();
  d.kind_ops = &no_send;
  EXPECT_EQ(RefusalFor(d).field, "send");
  EXPECT_EQ(CheckDescriptor(nullptr, "/p/x.so").error().field, "clinicore_plugin_entry");
}

TEST(DescriptorCheckTest, ReadsOnlyTheFieldsItKnows) {
  auto d = Valid();
  d.struct_size = sizeof d + 64;  // a plugin that knows more fields: the host reads what it knows
  EXPECT_EQ(RefusalFor(d).field, "(accepted)");
}

}  // namespace
}  // namespace clinicore::sdk::host
