#include "platform/auth/access_token.hpp"

#include <nlohmann/json.hpp>

#include "platform/core/crypto.hpp"

namespace clinicore::auth {
namespace {

using core::Error;
using core::ErrorCode;
using nlohmann::json;

constexpr size_t kMaxHeaderBytes = 256;
constexpr size_t kMaxClaimsBytes = 2048;

Error Refused(std::string detail) {
  return Error{ErrorCode::kUnauthenticated, std::move(detail), {}, {{"Authorization", "invalid access token"}}};
}

// Parses a small JSON object that must be flat (depth 1); nullopt for anything else.
std::optional<json> ParseFlatObject(const std::string& text) {
  if (JsonNestingDepth(text) != 1) return std::nullopt;
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

std::optional<std::string> StringClaim(const json& claims, const char* name, size_t max_length) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return std::nullopt;
  const auto& value = it->get_ref<const std::string&>();
  if (value.empty() || value.size() > max_length) return std::nullopt;
  return value;
}

std::optional<int64_t> TimeClaim(const json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

core::Result<AccessClaims> ReadClaims(const json& claims) {
  AccessClaims out;
  auto iss = StringClaim(claims, "iss", 200);
  auto aud = StringClaim(claims, "aud", 200);
  auto sub = StringClaim(claims, "sub", 64);
  auto role = StringClaim(claims, "role", 32);
  auto jti = StringClaim(claims, "jti", 64);
  auto sid = StringClaim(claims, "sid", 64);
  auto iat = TimeClaim(claims, "iat");
  auto exp = TimeClaim(claims, "exp");
  if (!iss || !aud || !sub || !role || !jti || !sid || !iat || !exp) {
    return Refused("The access token lacks a required claim (iss, aud, sub, role, jti, sid, iat, exp).");
  }
  out.issuer = *iss;
  out.audience = *aud;
  out.subject = *sub;
  out.role = *role;
  out.jti = *jti;
  out.session_id = *sid;
  out.issued_at = *iat;
  out.expires_at = *exp;
  if (claims.contains("tid")) {
    auto tid = StringClaim(claims, "tid", 64);
    if (!tid) return Refused("The access token's tid claim is malformed.");
    out.tenant_id = *tid;
  }
  return out;
}

}  // namespace

int JsonNestingDepth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

std::string IssueAccessToken(const KeyRing& keys, const AccessClaims& claims) {
  const json header = {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", keys.signing_kid()}};
  json body = {{"iss", claims.issuer}, {"aud", claims.audience},  {"sub", claims.subject},
               {"role", claims.role},  {"iat", claims.issued_at}, {"exp", claims.expires_at},
               {"jti", claims.jti},    {"sid", claims.session_id}};
  if (!claims.tenant_id.empty()) body["tid"] = claims.tenant_id;
  const std::string signing_input = core::Base64UrlEncode(header.dump()) + "." + core::Base64UrlEncode(body.dump());
  return signing_input + "." + core::Base64UrlEncode(keys.Sign(signing_input));
}

core::Result<AccessClaims> VerifyAccessToken(std::string_view token, const KeyRing& keys,
                                             const TokenExpectation& expected) {
  if (token.empty()) return Refused("The access token is empty.");
  if (token.size() > kMaxTokenBytes) return Refused("The access token is too large.");
  const size_t first_dot = token.find('.');
  const size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return Refused("The access token is not a JWS in compact form (three dot-separated parts).");
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view signing_input = token.substr(0, second_dot);
  auto header_text = core::Base64UrlDecode(header_part);
  auto claims_text = core::Base64UrlDecode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  auto signature = core::Base64UrlDecode(token.substr(second_dot + 1));
  if (!header_text || !claims_text || !signature) return Refused("The access token is not valid base64url.");
  if (header_text->size() > kMaxHeaderBytes || claims_text->size() > kMaxClaimsBytes) {
    return Refused("The access token is too large.");
  }

  auto header = ParseFlatObject(*header_text);
  if (!header) return Refused("The access token's header is not a flat JSON object.");
  for (const auto& [name, value] : header->items()) {
    if (name != "alg" && name != "kid" && name != "typ") {
      return Refused("The access token's header field '" + name + "' is not accepted.");
    }
  }
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get_ref<const std::string&>() != "EdDSA") {
    return Refused("Only EdDSA access tokens are accepted.");
  }
  const auto typ = header->find("typ");
  if (typ != header->end() && (!typ->is_string() || typ->get_ref<const std::string&>() != "JWT")) {
    return Refused("The access token's typ must be JWT.");
  }
  const auto kid = header->find("kid");
  if (kid == header->end() || !kid->is_string()) return Refused("The access token names no key (kid).");
  if (!keys.Verify(kid->get<std::string>(), signing_input, *signature)) {
    return Refused("The access token's signature does not verify (unknown kid or tampered token).");
  }

  auto claims_json = ParseFlatObject(*claims_text);
  if (!claims_json) return Refused("The access token's claims are not a flat JSON object.");
  auto claims = ReadClaims(*claims_json);
  if (!claims) return claims;
  if (claims->issuer != expected.issuer) return Refused("The access token was issued by someone else.");
  if (claims->audience != expected.audience) return Refused("The access token is not meant for this API.");
  if (expected.tenant_id && claims->tenant_id != *expected.tenant_id) {
    return Refused("The access token belongs to another tenant.");
  }
  if (!expected.tenant_id && !claims->tenant_id.empty()) return Refused("A tenant's token cannot be used here.");
  if (claims->expires_at <= claims->issued_at || claims->expires_at - claims->issued_at > kMaxAccessLifetimeSeconds) {
    return Refused("The access token's lifetime is not acceptable.");
  }
  if (claims->expires_at + expected.leeway_seconds <= expected.now) return Refused("The access token has expired.");
  if (claims->issued_at - expected.leeway_seconds > expected.now) return Refused("The access token is not valid yet.");
  return claims;
}

}  // namespace clinicore::auth
