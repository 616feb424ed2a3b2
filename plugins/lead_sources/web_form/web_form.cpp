// Lead source "web-form": signed JSON form posts from a tenant's website.
//
// verify: the sender signs the raw body: header X-Clinicore-Signature: t=<unix seconds>,v1=<hex
// HMAC-SHA256(secret, "<t>.<raw body>")>; the timestamp must be within tolerance_seconds of the
// host clock (replays of old posts are refused). A GET with ?challenge=<c>&verify_token=<token>
// is a subscription handshake answered with <c> when the token matches.
// parse: {"form_id","submission_id","fields":{"name","email","phone","message",...}} (or the
// fields at the top level, or a "submissions" array of those) → normalized leads, each with a
// dedupe key: the submission id when there is one, else SHA-256 of email|phone digits|form.
// import_csv: a header row (name,email,phone,message,...; any order), one lead per row.
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <clinicore/sdk/plugin.hpp>
#include <regex>
#include <string>
#include <vector>

namespace {

using clinicore::sdk::Host;
using clinicore::sdk::InboundRequest;
using clinicore::sdk::InvalidInput;
using clinicore::sdk::Json;
using clinicore::sdk::Lead;
using clinicore::sdk::VerifyResult;

std::string Trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string Hex(const unsigned char* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return Hex(digest, sizeof digest);
}

std::string Text(const Json& object, const char* name, size_t max) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return "";
  std::string value = it->is_string() ? it->get<std::string>() : it->dump();
  value = Trim(value);
  if (value.size() > max) value.resize(max);
  return value;
}

class WebForm : public clinicore::sdk::LeadSource {
 public:
  static constexpr const char* kName = "web-form";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Signed JSON form posts from the clinic's website (HMAC-SHA256 over the raw body, replay window, dedupe)";
  static constexpr const char* kConfigSchema = R"json({
    "type": "object",
    "additionalProperties": false,
    "required": ["secret"],
    "properties": {
      "secret": {"type": "string", "minLength": 16, "maxLength": 200, "x-secret": true,
                 "description": "Shared with the website; signs each post"},
      "verify_token": {"type": "string", "minLength": 8, "maxLength": 200, "x-secret": true,
                       "description": "Answers subscription handshakes (GET ?challenge=&verify_token=)"},
      "tolerance_seconds": {"type": "integer", "minimum": 10, "maximum": 3600, "default": 300},
      "form_ids": {"type": "array", "maxItems": 50, "uniqueItems": true,
                   "items": {"type": "string", "minLength": 1, "maxLength": 100},
                   "description": "Accept only these forms (all when absent)"}
    }
  })json";

  WebForm(const Json& config, Host& /*host*/)
      : secret_(config.at("secret").get<std::string>()),
        verify_token_(config.value("verify_token", std::string())),
        tolerance_seconds_(config.value("tolerance_seconds", 300)) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    for (const auto& form : config.value("form_ids", Json::array())) form_ids_.push_back(form.get<std::string>());
  }

  VerifyResult Verify(const InboundRequest& request, Host& host) override {
    if (request.method == "GET") {
      auto challenge = request.query.find("challenge");
      auto token = request.query.find("verify_token");
      if (challenge == request.query.end() || token == request.query.end() || verify_token_.empty()) {
        return VerifyResult::Invalid("a GET must be a handshake with challenge and verify_token");
      }
      if (token->second.size() != verify_token_.size() ||
          sodium_memcmp(token->second.data(), verify_token_.data(), verify_token_.size()) != 0) {
        return VerifyResult::Invalid("verify_token does not match");
      }
      return VerifyResult::Challenge(200, "text/plain", challenge->second.substr(0, 1000));
    }
    const auto header = request.Header("x-clinicore-signature");
    if (!header) return VerifyResult::Invalid("missing X-Clinicore-Signature");
    static const std::regex kSignature("^t=([0-9]{1,12}),v1=([0-9a-f]{64})$");
    std::smatch match;
    if (!std::regex_match(*header, match, kSignature)) {
      return VerifyResult::Invalid("X-Clinicore-Signature must be t=<unix seconds>,v1=<64 hex digits>");
    }
    const long long timestamp = std::stoll(match[1].str());
    const long long now = host.NowUnixMs() / 1000;
    if (timestamp < now - tolerance_seconds_ || timestamp > now + tolerance_seconds_) {
      return VerifyResult::Invalid("the signature timestamp is outside the " + std::to_string(tolerance_seconds_) +
                                   " s window (a replay, or a wrong clock)");
    }
    unsigned char expected[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    const std::string prefix = match[1].str() + ".";
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(request.body.data()),
                                  request.body.size());
    crypto_auth_hmacsha256_final(&state, expected);
    const std::string given = match[2].str();
    const std::string computed = Hex(expected, sizeof expected);
    if (sodium_memcmp(given.data(), computed.data(), computed.size()) != 0) {
      return VerifyResult::Invalid("the signature does not match the body");
    }
    return VerifyResult::Valid();
  }

  std::vector<Lead> Parse(const InboundRequest& request, Host& /*host*/) override {
    const Json body = Json::parse(request.body.begin(), request.body.end(), nullptr, false);
    if (!body.is_object()) throw InvalidInput("the body must be a JSON object");
    std::vector<Lead> leads;
    if (auto submissions = body.find("submissions"); submissions != body.end()) {
      if (!submissions->is_array() || submissions->size() > 1000) {
        throw InvalidInput("submissions must be an array of at most 1000");
      }
      for (const auto& submission : *submissions) leads.push_back(Normalize(submission));
    } else {
      leads.push_back(Normalize(body));
    }
    return leads;
  }

  std::optional<clinicore::sdk::ImportResult> ImportCsv(std::string_view csv, Host& host) override {
    clinicore::sdk::ImportResult result;
    std::vector<std::vector<std::string>> rows = ParseCsv(csv);
    if (rows.empty()) throw InvalidInput("the CSV is empty");
    std::vector<std::string> header;
    for (auto& name : rows[0]) header.push_back(Lower(Trim(name)));
    const uint64_t total = rows.size() - 1;
    for (size_t i = 1; i < rows.size(); ++i) {
      ++result.rows;
      Json submission = Json::object();
      Json fields = Json::object();
      for (size_t c = 0; c < header.size() && c < rows[i].size(); ++c) {
        if (header[c] == "form_id" || header[c] == "submission_id") {
          submission[header[c]] = rows[i][c];
        } else if (!header[c].empty()) {
          fields[header[c]] = rows[i][c];
        }
      }
      submission["fields"] = fields;
      try {
        result.leads.push_back(Normalize(submission));
      } catch (const InvalidInput& e) {
        result.errors.emplace_back(i + 1, e.what());  // 1-based line number, header = line 1
      }
      if (i % 100 == 0 || i == rows.size() - 1) host.Progress(i, total);
    }
    return result;
  }

 private:
  Lead Normalize(const Json& submission) const {
    if (!submission.is_object()) throw InvalidInput("a submission must be an object");
    const Json fields =
        submission.contains("fields") && submission["fields"].is_object() ? submission["fields"] : submission;
    const std::string form_id = Text(submission, "form_id", 100);
    if (!form_ids_.empty() && std::find(form_ids_.begin(), form_ids_.end(), form_id) == form_ids_.end()) {
      throw InvalidInput("form \"" + form_id + "\" is not accepted by this source");
    }
    Lead lead;
    const std::string email = Lower(Text(fields, "email", 254));
    std::string phone;
    for (char c : Text(fields, "phone", 40)) {
      if (std::isdigit(static_cast<unsigned char>(c)) || (c == '+' && phone.empty())) phone += c;
    }
    static const std::regex kEmail(R"(^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$)");
    if (!email.empty() && !std::regex_match(email, kEmail)) throw InvalidInput("email \"" + email + "\" is not valid");
    if (email.empty() && phone.size() < 6) throw InvalidInput("a lead needs an email or a phone number");
    lead.fields = {{"name", Text(fields, "name", 200)},
                   {"email", email.empty() ? Json(nullptr) : Json(email)},
                   {"phone", phone.empty() ? Json(nullptr) : Json(phone)},
                   {"message", Text(fields, "message", 5000)},
                   {"source", "web-form"},
                   {"form_id", form_id.empty() ? Json(nullptr) : Json(form_id)}};
    Json extra = Json::object();
    for (const auto& [name, value] : fields.items()) {
      if (name != "name" && name != "email" && name != "phone" && name != "message" && extra.size() < 50) {
        extra[name.substr(0, 100)] = value.is_string() ? Json(value.get<std::string>().substr(0, 1000)) : value;
      }
    }
    lead.fields["extra"] = extra;
    const std::string submission_id = Text(submission, "submission_id", 200);
    std::string digits;
    for (char c : phone) {
      if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    }
    lead.dedupe_key = !submission_id.empty() ? "web-form:submission:" + submission_id
                                             : "web-form:" + Sha256Hex(email + "|" + digits + "|" + form_id);
    return lead;
  }

  // RFC 4180: quoted fields, "" inside quotes, CRLF or LF line ends.
  static std::vector<std::vector<std::string>> ParseCsv(std::string_view csv) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false;
    bool any = false;
    for (size_t i = 0; i < csv.size(); ++i) {
      const char c = csv[i];
      any = true;
      if (quoted) {
        if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
          field += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          field += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        row.push_back(std::move(field));
        field.clear();
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') ++i;
        row.push_back(std::move(field));
        field.clear();
        if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
        row.clear();
        any = false;
      } else {
        field += c;
      }
      if (rows.size() > 100'000) throw InvalidInput("the CSV has more than 100000 rows");
    }
    if (quoted) throw InvalidInput("the CSV ends inside a quoted field");
    if (any) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  std::string secret_;
  std::string verify_token_;
  int tolerance_seconds_;
  std::vector<std::string> form_ids_;
};

}  // namespace

CLINICORE_LEAD_SOURCE_PLUGIN(WebForm)
