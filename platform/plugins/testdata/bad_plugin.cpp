// Plugins the loader must refuse, one per compile definition (see ../CMakeLists.txt):
// BAD_MAGIC, BAD_ABI_MAJOR, NEWER_ABI_MINOR, UNKNOWN_KIND, MISSING_SYMBOL, NO_ENTRY.
#include "clinicore/sdk/abi.h"

#ifdef MISSING_SYMBOL
// Declared, never defined anywhere: dlopen with RTLD_NOW must fail on it.
extern "C" int clinicore_test_symbol_that_does_not_exist(void);
#endif

namespace {

int32_t Create(const clinicore_host*, const char*, size_t, void** instance, clinicore_sink*) {
#ifdef MISSING_SYMBOL
  static int token = clinicore_test_symbol_that_does_not_exist();
#else
  static int token = 0;
#endif
  *instance = &token;
  return CLINICORE_OK;
}
void Destroy(void*) {}
int32_t Send(void*, const clinicore_host*, const char*, size_t, clinicore_sink*) {
  return CLINICORE_OK;
}

const clinicore_channel_ops kOps{sizeof(clinicore_channel_ops), 0, 0, 0, &Send};

#ifdef BAD_MAGIC
constexpr uint64_t kMagic = 0xbad;
#else
constexpr uint64_t kMagic = CLINICORE_PLUGIN_MAGIC;
#endif
#ifdef BAD_ABI_MAJOR
constexpr uint16_t kMajor = CLINICORE_SDK_ABI_MAJOR + 1;
#else
constexpr uint16_t kMajor = CLINICORE_SDK_ABI_MAJOR;
#endif
#ifdef NEWER_ABI_MINOR
constexpr uint16_t kMinor = CLINICORE_SDK_ABI_MINOR + 1;
#else
constexpr uint16_t kMinor = CLINICORE_SDK_ABI_MINOR;
#endif
#ifdef UNKNOWN_KIND
constexpr uint32_t kKind = 9;
#else
constexpr uint32_t kKind = CLINICORE_KIND_CHANNEL;
#endif

const clinicore_plugin_descriptor kDescriptor{
    kMagic,
    sizeof(clinicore_plugin_descriptor),
    kMajor,
    kMinor,
    0,
    kKind,
    "bad-plugin",
    "0.0.1",
    "refused in tests",
    R"({"type":"object"})",
    &Create,
    &Destroy,
    nullptr,
    &kOps,
};

}  // namespace

#ifdef NO_ENTRY
// A shared library that is not a plugin: it exports something, but not the entry symbol.
// NOLINTNEXTLINE(readability-identifier-naming): a C symbol, named like one
CLINICORE_PLUGIN_EXPORT const void* some_other_library_function(void) {
  return &kDescriptor;
}
#else
CLINICORE_PLUGIN_EXPORT const clinicore_plugin_descriptor* clinicore_plugin_entry(void) {
  return &kDescriptor;
}
#endif
