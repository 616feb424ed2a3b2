/*
 * clinicore plugin ABI — the only contract between a plugin shared library and the platform.
 *
 * A plugin exports ONE C symbol, clinicore_plugin_entry, returning a pointer to a static,
 * size-versioned descriptor. Only the plain C structs below, byte strings and UTF-8 JSON text
 * cross the boundary: no C++ types, no exceptions, no allocations owned by the other side.
 * Output travels through a clinicore_sink the host provides, so neither side ever frees the
 * other's memory.
 *
 * Compatibility (docs/sdk-versioning.md):
 *   - CLINICORE_SDK_ABI_MAJOR changes on any break (a field moved, removed or reinterpreted);
 *     the host refuses a plugin whose major differs from its own.
 *   - CLINICORE_SDK_ABI_MINOR changes on additions (a field appended to the END of a struct, a
 *     new host service, a new optional operation); every struct starts with its own size, so a
 *     reader never reads past what the writer knew. The host accepts a plugin whose minor is at
 *     most its own.
 *
 * This header is C99 and C++ compatible and includes nothing but <stddef.h> and <stdint.h>.
 */
#ifndef CLINICORE_SDK_ABI_H
#define CLINICORE_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#define CLINICORE_SDK_ABI_MAJOR 1
#define CLINICORE_SDK_ABI_MINOR 0
#define CLINICORE_SDK_VERSION_PATCH 0

/* The first 8 bytes of every descriptor: the ASCII bytes "CLNCPLG1" read as a little-endian
 * 64-bit integer. The host checks it before it reads anything else. */
#define CLINICORE_PLUGIN_MAGIC UINT64_C(0x31474C50434E4C43)

/* The one symbol a plugin exports. */
#define CLINICORE_PLUGIN_ENTRY_SYMBOL "clinicore_plugin_entry"

#ifdef __cplusplus
#define CLINICORE_EXTERN_C extern "C"
#else
#define CLINICORE_EXTERN_C
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CLINICORE_PLUGIN_EXPORT CLINICORE_EXTERN_C __attribute__((visibility("default")))
#else
#define CLINICORE_PLUGIN_EXPORT CLINICORE_EXTERN_C
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* What a plugin is. Values never change meaning; new kinds get new numbers (a minor bump). */
enum clinicore_plugin_kind {
  CLINICORE_KIND_CHANNEL = 1,      /* notification channel: send */
  CLINICORE_KIND_LEAD_SOURCE = 2,  /* inbound leads: verify + parse, optional CSV import */
  CLINICORE_KIND_LOYALTY_RULE = 3  /* loyalty: evaluate an event, optional tier */
};

/* What every plugin operation returns. On anything but CLINICORE_OK the plugin should write
 * {"error":"<message>"} to its output sink (best effort; the host copes without it). */
enum clinicore_status {
  CLINICORE_OK = 0,
  CLINICORE_INVALID_INPUT = 1, /* the input (or config) is unusable: retrying will not help */
  CLINICORE_PLUGIN_ERROR = 2,  /* the plugin failed (an exception, a bug): counts toward quarantine */
  CLINICORE_UNSUPPORTED = 3    /* an optional operation this plugin does not offer */
};

/* Bits of clinicore_plugin_descriptor.build_flags: how the plugin was built, for diagnostics
 * (`clinicore plugin verify` prints them). */
#define CLINICORE_BUILD_DEBUG UINT32_C(0x1)     /* NDEBUG was not defined */
#define CLINICORE_BUILD_SANITIZED UINT32_C(0x2) /* built with AddressSanitizer */
#define CLINICORE_BUILD_CXX_LAYER UINT32_C(0x4) /* descriptor made by clinicore/sdk/plugin.hpp */

/* Log levels for clinicore_host_services.log. */
enum clinicore_log_level {
  CLINICORE_LOG_DEBUG = 0,
  CLINICORE_LOG_INFO = 1,
  CLINICORE_LOG_WARN = 2,
  CLINICORE_LOG_ERROR = 3
};

/* Return values of the host services. */
enum clinicore_host_status {
  CLINICORE_HOST_OK = 0,
  CLINICORE_HOST_NOT_FOUND = 1, /* kv_get: no such key */
  CLINICORE_HOST_ERROR = -1     /* the service failed (storage down, bad argument, deadline passed) */
};

/* Where the other side writes its output. write() may be called several times (the pieces are
 * concatenated) and returns 0, or non-zero when the host refuses more (output too large): the
 * writer should stop then. Valid only during the call it was passed to. */
typedef struct clinicore_sink {
  void* ctx;
  int32_t (*write)(void* ctx, const char* data, size_t size);
} clinicore_sink;

/* Services the host offers a plugin during a call. `ctx` is clinicore_host.ctx: it binds the
 * call to one tenant and one plugin, so key-value state and logs are always the calling
 * tenant's. All text is UTF-8; lengths are in bytes; nothing needs to be NUL-terminated. */
typedef struct clinicore_host_services {
  uint32_t struct_size; /* sizeof(clinicore_host_services) as the host was built */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* A log line tagged by the host with the plugin, its version and the tenant. fields_json is
   * a JSON object or empty. */
  void (*log)(void* ctx, int32_t level, const char* message, size_t message_size, const char* fields_json,
              size_t fields_size);

  /* One HTTP(S) request through the host's libcurl, bounded by the call's deadline. The request
   * is JSON {"method","url","headers":{name:value},"body":"<text>","timeout_ms":N}; the response
   * written to `response` is {"status":N,"headers":{lower-case name:value},"body":"<text>"} or
   * {"error":"<text>","timed_out":bool}. Returns CLINICORE_HOST_OK when the response JSON was
   * written (an HTTP error status is still OK), CLINICORE_HOST_ERROR for a malformed request. */
  int32_t (*http)(void* ctx, const char* request_json, size_t request_size, clinicore_sink* response);

  int64_t (*now_unix_ms)(void* ctx);      /* wall clock, milliseconds since the Unix epoch */
  int64_t (*deadline_unix_ms)(void* ctx); /* when the host stops waiting for this call */

  /* The plugin's own key-value state for the calling tenant (keys 1..200 bytes, values up to
   * 64 KiB). ttl_seconds 0 keeps the value until deleted. */
  int32_t (*kv_get)(void* ctx, const char* key, size_t key_size, clinicore_sink* value);
  int32_t (*kv_put)(void* ctx, const char* key, size_t key_size, const char* value, size_t value_size,
                    int64_t ttl_seconds);
  int32_t (*kv_delete)(void* ctx, const char* key, size_t key_size);

  /* Progress of a long operation (CSV import): `done` of `total` units (total 0 = unknown). */
  void (*progress)(void* ctx, uint64_t done, uint64_t total);
} clinicore_host_services;

/* Handed to every plugin function. Valid only during that call: do not keep it. */
typedef struct clinicore_host {
  const clinicore_host_services* services;
  void* ctx;
} clinicore_host;

/* The common shape of an operation on a created instance: JSON (or raw bytes) in, JSON out. */
typedef int32_t (*clinicore_operation)(void* instance, const clinicore_host* host, const char* input,
                                       size_t input_size, clinicore_sink* out);

/* An inbound HTTP request for a lead source: request_json is {"method","path","headers":{lower-case
 * name:value},"query":{name:value},"tenant":{...}}; body is the raw bytes as received. */
typedef int32_t (*clinicore_inbound_operation)(void* instance, const clinicore_host* host, const char* request_json,
                                               size_t request_size, const char* body, size_t body_size,
                                               clinicore_sink* out);

/* CLINICORE_KIND_CHANNEL. send input: {"message":{...},"recipient":{...},"tenant":{...},
 * "idempotency_key":"..."}; output: {"status":"delivered","provider_message_id":"..."} |
 * {"status":"retry","after_seconds":N,"reason":"..."} | {"status":"failed","reason":"..."}. */
typedef struct clinicore_channel_ops {
  uint32_t struct_size;
  uint32_t max_body_bytes; /* largest message body the channel takes; 0 = not declared */
  uint32_t max_per_second; /* sends per second per tenant the provider allows; 0 = not declared.
                              The host holds sends to it (they wait; no attempt is used). */
  uint32_t reserved;       /* 0 */
  clinicore_operation send;
} clinicore_channel_ops;

/* CLINICORE_KIND_LEAD_SOURCE. verify output: {"valid":true} | {"valid":false,"reason":"..."} |
 * {"valid":true,"challenge":{"status":N,"content_type":"...","body":"..."}} (a handshake the
 * host answers instead of parsing). parse output: {"leads":[{"dedupe_key":"...","lead":{...}}]}.
 * import_csv (optional: may return CLINICORE_UNSUPPORTED) input: the CSV bytes; output:
 * {"rows":N,"leads":[...],"errors":[{"row":N,"message":"..."}]}. */
typedef struct clinicore_lead_source_ops {
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  clinicore_inbound_operation verify;
  clinicore_inbound_operation parse;
  clinicore_operation import_csv;
} clinicore_lead_source_ops;

/* CLINICORE_KIND_LOYALTY_RULE. evaluate input: {"event":{"type":"appointment_completed" |
 * "client_birthday" | "referral" | "signup" | ...,...},"tenant":{...}}; output:
 * {"awards":[{"points":N,"reason":"..."}]} (negative points are deductions). tier (optional)
 * input: {"balance":N,"lifetime_points":N}; output: {"tier":"..."} or {"tier":null}. */
typedef struct clinicore_loyalty_rule_ops {
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  clinicore_operation evaluate;
  clinicore_operation tier;
} clinicore_loyalty_rule_ops;

/* What clinicore_plugin_entry returns: static data that lives as long as the library. */
typedef struct clinicore_plugin_descriptor {
  uint64_t magic;       /* CLINICORE_PLUGIN_MAGIC */
  uint32_t struct_size; /* sizeof(clinicore_plugin_descriptor) as the plugin was built */
  uint16_t abi_major;   /* CLINICORE_SDK_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* CLINICORE_SDK_ABI_MINOR the plugin was built with */
  uint32_t build_flags; /* CLINICORE_BUILD_* bits */
  uint32_t kind;        /* enum clinicore_plugin_kind */
  const char* name;     /* [a-z][a-z0-9-]{1,62}, e.g. "webhook" */
  const char* version;  /* semantic version, e.g. "1.2.0" */
  const char* description;
  const char* config_schema; /* JSON Schema (the subset in docs/plugin-guide.md) of the config */

  /* Creates an instance for one tenant's config (JSON object, already validated against
   * config_schema by the host). On failure writes {"error":...} to `error`. */
  int32_t (*create)(const clinicore_host* host, const char* config_json, size_t config_size, void** instance,
                    clinicore_sink* error);
  void (*destroy)(void* instance);
  /* Optional live check of the config (credentials, reachability); output
   * {"ok":true} | {"ok":false,"errors":[{"field":"...","message":"..."}]}. May be NULL. */
  clinicore_operation check_config;

  /* Points to clinicore_channel_ops, clinicore_lead_source_ops or clinicore_loyalty_rule_ops,
   * as `kind` says. */
  const void* kind_ops;
} clinicore_plugin_descriptor;

typedef const clinicore_plugin_descriptor* (*clinicore_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CLINICORE_SDK_ABI_H */
