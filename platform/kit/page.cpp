#include "platform/kit/page.hpp"

#include <sodium.h>

#include <array>

#include "platform/core/crypto.hpp"

namespace clinicore::kit {
namespace {

constexpr size_t kMaxCursorBytes = 1024;

struct CursorKey {
  std::array<unsigned char, crypto_auth_KEYBYTES> bytes{};
  CursorKey() { crypto_auth_keygen(bytes.data()); }
};

CursorKey& Key() {
  static CursorKey key;
  return key;
}

std::string Mac(std::string_view list, std::string_view payload) {
  const std::string message = std::string(list) + '\n' + std::string(payload);
  std::array<unsigned char, crypto_auth_BYTES> mac{};
  crypto_auth(mac.data(), reinterpret_cast<const unsigned char*>(message.data()), message.size(), Key().bytes.data());
  // 16 bytes are plenty against forgery here and keep cursors short.
  return std::string(reinterpret_cast<const char*>(mac.data()), 16);
}

core::Error BadCursor() {
  return core::Error::InvalidArgument("cursor is not one this list gave out; start again without it.",
                                      {{"cursor", "is not a cursor of this list"}});
}

}  // namespace

void SetCursorSecret(std::string_view secret) {
  static constexpr std::string_view kContext = "clinicore list cursor v1";
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_auth_KEYBYTES);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_generichash_final(&state, Key().bytes.data(), crypto_auth_KEYBYTES);
}

std::string EncodeCursor(std::string_view list, const nlohmann::json& position) {
  const std::string payload = position.dump();
  return core::Base64UrlEncode(payload) + "." + core::Base64UrlEncode(Mac(list, payload));
}

core::Result<nlohmann::json> DecodeCursor(std::string_view list, std::string_view cursor) {
  if (cursor.empty() || cursor.size() > kMaxCursorBytes) return BadCursor();
  const auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return BadCursor();
  const auto payload = core::Base64UrlDecode(cursor.substr(0, dot));
  const auto mac = core::Base64UrlDecode(cursor.substr(dot + 1));
  if (!payload || !mac || !core::SameSecret(*mac, Mac(list, *payload))) return BadCursor();
  auto position = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!position.is_array()) return BadCursor();
  return position;
}

core::Result<PageRequest> ParsePageRequest(const http::RequestContext& context, std::string_view list) {
  PageRequest page;
  page.list = std::string(list);
  CLINICORE_TRY(page.limit, context.PageLimit());
  if (auto cursor = context.Query("cursor")) {
    CLINICORE_TRY(page.after, DecodeCursor(list, *cursor));
  }
  return page;
}

std::optional<std::string> PositionText(const PageRequest& page, size_t index) {
  if (!page.after || !page.after->is_array() || page.after->size() <= index) return std::nullopt;
  const auto& key = (*page.after)[index];
  if (!key.is_string()) return std::nullopt;
  return key.get<std::string>();
}

std::optional<long long> PositionNumber(const PageRequest& page, size_t index) {
  if (!page.after || !page.after->is_array() || page.after->size() <= index) return std::nullopt;
  const auto& key = (*page.after)[index];
  if (!key.is_number_integer()) return std::nullopt;
  return key.get<long long>();
}

nlohmann::json PageJson(nlohmann::json items, const std::optional<std::string>& next_cursor) {
  return {{"items", std::move(items)}, {"next_cursor", next_cursor ? nlohmann::json(*next_cursor) : nullptr}};
}

std::string RenderedPageBody(const std::vector<std::string>& items, const std::optional<std::string>& next_cursor) {
  size_t size = 40;
  for (const auto& item : items) size += item.size() + 1;
  std::string body;
  body.reserve(size + (next_cursor ? next_cursor->size() : 0));
  body += "{\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body += ',';
    body += items[i];
  }
  body += "],\"next_cursor\":";
  body += next_cursor ? nlohmann::json(*next_cursor).dump() : "null";
  body += '}';
  return body;
}

}  // namespace clinicore::kit
