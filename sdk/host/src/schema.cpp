#include "clinicore/sdk/host/schema.hpp"

#include <regex.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

namespace clinicore::sdk::host {
namespace {

using nlohmann::json;

constexpr size_t kMaxIssues = 100;
constexpr size_t kMaxPatternBytes = 512;
constexpr size_t kMaxMatchedBytes = 16 * 1024;
constexpr int kMaxRepeat = 255;

const std::set<std::string, std::less<>> kTypes = {"object", "array", "string", "integer", "number", "boolean", "null"};
const std::set<std::string, std::less<>> kAnnotations = {"title",    "description", "default",  "examples",
                                                         "format",   "$schema",     "$comment", "deprecated",
                                                         "readOnly", "writeOnly"};

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}
std::string Index(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

bool IsNonNegativeInteger(const json& value) {
  return (value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0)) &&
         value.get<uint64_t>() <= (uint64_t{1} << 31);
}

// A count keyword's value (minLength, maxItems, ...), whether parsed as signed or unsigned.
std::optional<uint64_t> Count(const json& schema, const char* keyword) {
  auto it = schema.find(keyword);
  if (it == schema.end() || !IsNonNegativeInteger(*it)) return std::nullopt;
  return it->get<uint64_t>();
}

bool IsIntegral(const json& value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  const double d = value.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool HasType(const json& value, std::string_view type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "integer") return IsIntegral(value);
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return false;
}

// Unicode code points in UTF-8 text (JSON Schema counts characters, not bytes).
size_t CodePoints(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

std::string Short(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string Number(const json& value) {
  return value.dump();
}

bool IsSecretFlag(const json& schema) {
  if (!schema.is_object()) return false;
  auto secret = schema.find("x-secret");
  auto write_only = schema.find("writeOnly");
  return (secret != schema.end() && secret->is_boolean() && secret->get<bool>()) ||
         (write_only != schema.end() && write_only->is_boolean() && write_only->get<bool>());
}

// ECMAScript-flavoured pattern → POSIX extended regular expression. Refuses what ERE cannot
// express the same way (back-references, lookaround, word boundaries) instead of guessing.
// The size of a pattern once bounded repetitions are expanded (glibc expands {n,m} when it
// compiles): each atom weighs 1, a group the sum of its parts, x{n,m} weighs m times x.
// Nested bounds multiply ((a{255}){255}){255} is 16 million states and seconds to compile), so
// the weight is capped.
class PatternWeight {
 public:
  static constexpr long kMax = 10'000;
  void Atom() { Add(1); }
  void Open() { groups_.push_back(0); }
  void Close() {
    long group = groups_.size() > 1 ? groups_.back() : 0;
    if (groups_.size() > 1) groups_.pop_back();
    Add(group);
  }
  void Repeat(long times) {
    if (times <= 1) return;
    groups_.back() += last_ * (times - 1);
    last_ *= times;
    Clamp();
  }
  bool too_large() const {
    return last_ > kMax || std::any_of(groups_.begin(), groups_.end(), [](long group) { return group > kMax; });
  }

 private:
  void Add(long weight) {
    groups_.back() += weight;
    last_ = weight;
    Clamp();
  }
  void Clamp() {
    if (groups_.back() > kMax) groups_.back() = kMax + 1;
    if (last_ > kMax) last_ = kMax + 1;
  }
  std::vector<long> groups_{0};
  long last_ = 0;
};

std::optional<std::string> TranslatePattern(std::string_view in, std::string& error) {
  std::string out;
  PatternWeight weight;
  bool after_quantifier = false;  // x** or x+{2}: refused (ECMAScript refuses it; glibc expands it)
  bool in_bracket = false;
  size_t bracket_start = 0;  // index in `out` just after '[' or '[^'
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (in_bracket) {
      if (c == ']' && out.size() > bracket_start) {
        in_bracket = false;
        weight.Atom();
        out += c;
      } else if (c == '[' && i + 1 < in.size() && (in[i + 1] == ':' || in[i + 1] == '.' || in[i + 1] == '=')) {
        const char kind = in[i + 1];
        const size_t end = in.find(std::string{kind, ']'}, i + 2);
        if (end == std::string_view::npos) {
          error = "unterminated [" + std::string(1, kind) + " in a bracket expression";
          return std::nullopt;
        }
        out.append(in.substr(i, end + 2 - i));
        i = end + 1;
      } else if (c == '\\') {
        if (i + 1 >= in.size()) {
          error = "the pattern ends with a backslash";
          return std::nullopt;
        }
        const char e = in[++i];
        if (e == 'd') {
          out += "0-9";
        } else if (e == 'w') {
          out += "A-Za-z0-9_";
        } else if (e == 's') {
          out += "[:space:]";
        } else if (e == 'n') {
          out += '\n';
        } else if (e == 't') {
          out += '\t';
        } else if (e == 'r') {
          out += '\r';
        } else if (std::string_view(".*+?(){}|$/").find(e) != std::string_view::npos) {
          out += e;  // literal inside a bracket expression anyway
        } else {
          error = std::string("\\") + e + " inside [...] is not supported (put '-' last and ']' first instead)";
          return std::nullopt;
        }
      } else {
        out += c;
      }
      continue;
    }
    const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && after_quantifier) {
      error = "a quantifier cannot follow another quantifier (lazy quantifiers like +? are not supported)";
      return std::nullopt;
    }
    after_quantifier = false;
    if (c == '[') {
      in_bracket = true;
      out += c;
      if (i + 1 < in.size() && in[i + 1] == '^') {
        out += '^';
        ++i;
      }
      bracket_start = out.size();
      if (i + 1 < in.size() && in[i + 1] == ']') {  // a leading ']' is literal
        out += ']';
        ++i;
      }
    } else if (c == '\\') {
      if (i + 1 >= in.size()) {
        error = "the pattern ends with a backslash";
        return std::nullopt;
      }
      const char e = in[++i];
      weight.Atom();
      switch (e) {
        case 'd':
          out += "[0-9]";
          break;
        case 'D':
          out += "[^0-9]";
          break;
        case 'w':
          out += "[A-Za-z0-9_]";
          break;
        case 'W':
          out += "[^A-Za-z0-9_]";
          break;
        case 's':
          out += "[[:space:]]";
          break;
        case 'S':
          out += "[^[:space:]]";
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
        case 'B':
          error = "word boundaries (\\b, \\B) are not supported";
          return std::nullopt;
        default:
          if (e >= '0' && e <= '9') {
            error = "back-references are not supported";
            return std::nullopt;
          }
          if (std::string_view(".[]{}()*+?^$|\\").find(e) != std::string_view::npos) {
            out += '\\';
            out += e;
          } else if (std::string_view("/-_:;,'\"<>=!@#%&~`").find(e) != std::string_view::npos) {
            out += e;
          } else {
            error = std::string("unsupported escape \\") + e;
            return std::nullopt;
          }
      }
    } else if (c == '(' && i + 1 < in.size() && in[i + 1] == '?') {
      error = "(?...) groups (lookaround, non-capturing, named) are not supported";
      return std::nullopt;
    } else if (c == '(') {
      weight.Open();
      out += c;
    } else if (c == ')') {
      weight.Close();
      out += c;
    } else if (c == '{') {
      // {n}, {n,}, {n,m}: bounded so a pattern cannot blow up the compiled automaton.
      size_t j = i + 1;
      auto number = [&](int& value) {
        const size_t start = j;
        value = 0;
        while (j < in.size() && in[j] >= '0' && in[j] <= '9' && j - start < 6) value = value * 10 + (in[j++] - '0');
        return j > start;
      };
      int low = 0, high = 0;
      bool ok = number(low);
      if (ok && j < in.size() && in[j] == ',') {
        ++j;
        if (j < in.size() && in[j] != '}') ok = number(high) && high >= low;
      } else {
        high = low;
      }
      if (ok && j < in.size() && in[j] == '}') {
        if (low > kMaxRepeat || high > kMaxRepeat) {
          error = "repetition counts above " + std::to_string(kMaxRepeat) + " are not supported";
          return std::nullopt;
        }
        weight.Repeat(std::max(low, high));
        out.append(in.substr(i, j + 1 - i));
        i = j;
        after_quantifier = true;
      } else {
        weight.Atom();
        out += "\\{";  // a literal brace, as ECMAScript reads it
      }
    } else if (c == '}') {
      weight.Atom();
      out += "\\}";
    } else {
      if (c == '*' || c == '?') {
        after_quantifier = true;
      } else if (c == '+') {
        weight.Repeat(2);  // glibc compiles x+ as x x*
        after_quantifier = true;
      } else if (c != '|' && c != '^' && c != '$') {
        weight.Atom();
      }
      out += c;
    }
    if (weight.too_large()) {
      error = "too large once its repetitions are expanded (nested {n,m} multiply); simplify it";
      return std::nullopt;
    }
  }
  if (in_bracket) {
    error = "unterminated [...]";
    return std::nullopt;
  }
  return out;
}

// A compiled pattern, freed on scope exit.
class Regex {
 public:
  explicit Regex(std::string_view pattern) {
    if (pattern.size() > kMaxPatternBytes) {
      error_ = "longer than " + std::to_string(kMaxPatternBytes) + " bytes";
      return;
    }
    auto translated = TranslatePattern(pattern, error_);
    if (!translated) return;
    const int code = regcomp(&regex_, translated->c_str(), REG_EXTENDED | REG_NOSUB);
    if (code != 0) {
      char text[200];
      regerror(code, &regex_, text, sizeof text);
      error_ = text;
      return;
    }
    compiled_ = true;
  }
  ~Regex() {
    if (compiled_) regfree(&regex_);
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool compiled() const { return compiled_; }
  const std::string& error() const { return error_; }
  bool Search(std::string_view text) const {
    regmatch_t range[1];
    range[0].rm_so = 0;
    range[0].rm_eo = static_cast<regoff_t>(text.size());
    return regexec(&regex_, text.data(), 1, range, REG_STARTEND) == 0;
  }

 private:
  regex_t regex_{};
  bool compiled_ = false;
  std::string error_;
};

class SchemaChecker {
 public:
  std::vector<FieldIssue> issues;

  void Check(const json& schema, const std::string& path, int depth, bool in_array) {
    if (issues.size() >= kMaxIssues) return;
    if (depth > kMaxSchemaDepth) return Fail(path, "nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    if (!schema.is_object()) return Fail(path, "a schema must be a JSON object");
    for (const auto& [keyword, value] : schema.items()) {
      const std::string here = Join(path, keyword);
      if (keyword == "type") {
        CheckType(value, here);
      } else if (keyword == "properties") {
        if (!value.is_object()) {
          Fail(here, "must be an object");
          continue;
        }
        for (const auto& [name, sub] : value.items()) {
          if (!ValidPropertyName(name)) {
            Fail(Join(here, name), "property names must be 1 to 64 of [A-Za-z0-9_-]");
            continue;
          }
          Check(sub, Join(here, name), depth + 1, in_array);
        }
      } else if (keyword == "required") {
        CheckRequired(schema, value, here);
      } else if (keyword == "additionalProperties" || keyword == "uniqueItems" || keyword == "deprecated" ||
                 keyword == "readOnly") {
        if (!value.is_boolean()) Fail(here, "must be true or false");
      } else if (keyword == "items") {
        if (!value.is_object()) {
          Fail(here, "must be one schema (the tuple form is not supported)");
          continue;
        }
        Check(value, here, depth + 1, true);
      } else if (keyword == "minItems" || keyword == "maxItems" || keyword == "minLength" || keyword == "maxLength") {
        if (!IsNonNegativeInteger(value)) Fail(here, "must be a whole number from 0 to 2147483648");
      } else if (keyword == "enum") {
        if (!value.is_array() || value.empty()) Fail(here, "must be a non-empty array");
      } else if (keyword == "const") {
        // any value
      } else if (keyword == "minimum" || keyword == "maximum" || keyword == "exclusiveMinimum" ||
                 keyword == "exclusiveMaximum") {
        if (!value.is_number()) Fail(here, "must be a number");
      } else if (keyword == "pattern") {
        if (!value.is_string()) {
          Fail(here, "must be a string");
          continue;
        }
        Regex regex(value.get<std::string>());
        if (!regex.compiled()) Fail(here, "is not a supported pattern: " + regex.error());
      } else if (keyword == "x-secret" || keyword == "writeOnly") {
        if (!value.is_boolean()) {
          Fail(here, "must be true or false");
        } else if (value.get<bool>()) {
          if (schema.value("type", json()) != "string") Fail(here, "secrets must be string properties");
          if (in_array) Fail(here, "secrets inside arrays are not supported");
        }
      } else if (kAnnotations.count(keyword) != 0 || keyword.rfind("x-", 0) == 0) {
        // annotations: not checked
      } else {
        Fail(here, "unsupported keyword \"" + keyword + "\" (see the schema subset in docs/plugin-guide.md)");
      }
    }
    CheckBounds(schema, path, "minLength", "maxLength");
    CheckBounds(schema, path, "minItems", "maxItems");
    CheckBounds(schema, path, "minimum", "maximum");
    if (auto it = schema.find("default"); it != schema.end() && issues.empty()) {
      auto problems = Validate(schema, *it, "default");
      if (!problems.empty()) Fail(Join(path, "default"), "does not match its own schema: " + problems[0].message);
    }
  }

 private:
  void Fail(const std::string& path, std::string message) {
    if (issues.size() < kMaxIssues) issues.push_back({path, std::move(message)});
  }

  static bool ValidPropertyName(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
  }

  void CheckType(const json& value, const std::string& here) {
    if (value.is_string()) {
      if (kTypes.count(value.get<std::string>()) == 0) Fail(here, "unknown type " + Short(value));
      return;
    }
    if (!value.is_array() || value.empty()) {
      Fail(here, "must be a type name or a non-empty list of them");
      return;
    }
    std::set<std::string> seen;
    for (const auto& item : value) {
      if (!item.is_string() || kTypes.count(item.get<std::string>()) == 0) {
        Fail(here, "unknown type " + Short(item));
      } else if (!seen.insert(item.get<std::string>()).second) {
        Fail(here, "lists " + Short(item) + " twice");
      }
    }
  }

  void CheckRequired(const json& schema, const json& value, const std::string& here) {
    if (!value.is_array()) {
      Fail(here, "must be an array of property names");
      return;
    }
    std::set<std::string> seen;
    const json* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    for (const auto& item : value) {
      if (!item.is_string()) {
        Fail(here, "must be an array of property names");
        return;
      }
      const std::string name = item.get<std::string>();
      if (!seen.insert(name).second) Fail(here, "names \"" + name + "\" twice");
      if (properties == nullptr || !properties->is_object() || !properties->contains(name)) {
        Fail(here, "names \"" + name + "\", which is not in properties");
      }
    }
  }

  void CheckBounds(const json& schema, const std::string& path, const char* low, const char* high) {
    auto l = schema.find(low);
    auto h = schema.find(high);
    if (l != schema.end() && h != schema.end() && l->is_number() && h->is_number() &&
        l->get<double>() > h->get<double>()) {
      Fail(Join(path, low), std::string("is greater than ") + high);
    }
  }
};

class Validator {
 public:
  std::vector<FieldIssue> issues;

  void Check(const json& schema, const json& value, const std::string& path, int depth) {
    if (issues.size() >= kMaxIssues || depth > kMaxSchemaDepth + 1 || !schema.is_object()) return;
    if (auto type = schema.find("type"); type != schema.end()) {
      bool matches = false;
      std::string names;
      if (type->is_string()) {
        matches = HasType(value, type->get<std::string>());
        names = type->get<std::string>();
      } else if (type->is_array()) {
        for (const auto& t : *type) {
          if (!t.is_string()) continue;
          matches = matches || HasType(value, t.get<std::string>());
          names += (names.empty() ? "" : " or ") + t.get<std::string>();
        }
      }
      if (!matches) return Fail(path, "must be " + Article(names) + names);
    }
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
      bool found = false;
      std::string list;
      for (const auto& option : *it) {
        found = found || option == value;
        if (list.size() < 200) list += (list.empty() ? "" : ", ") + Short(option);
      }
      if (!found) Fail(path, "must be one of: " + list);
    }
    if (auto it = schema.find("const"); it != schema.end() && *it != value) Fail(path, "must be " + Short(*it));
    if (value.is_number()) CheckNumber(schema, value, path);
    if (value.is_string()) CheckString(schema, value.get_ref<const std::string&>(), path);
    if (value.is_array()) CheckArray(schema, value, path, depth);
    if (value.is_object()) CheckObject(schema, value, path, depth);
  }

 private:
  static std::string Article(const std::string& names) {
    return !names.empty() && std::string_view("aeiou").find(names[0]) != std::string_view::npos ? "an " : "a ";
  }

  void Fail(const std::string& path, std::string message) {
    if (issues.size() < kMaxIssues) issues.push_back({path.empty() ? "(root)" : path, std::move(message)});
  }

  void CheckNumber(const json& schema, const json& value, const std::string& path) {
    const double number = value.get<double>();
    auto bound = [&](const char* keyword) -> std::optional<json> {
      auto it = schema.find(keyword);
      if (it == schema.end() || !it->is_number()) return std::nullopt;
      return *it;
    };
    if (auto b = bound("minimum"); b && number < b->get<double>()) Fail(path, "must be at least " + Number(*b));
    if (auto b = bound("maximum"); b && number > b->get<double>()) Fail(path, "must be at most " + Number(*b));
    if (auto b = bound("exclusiveMinimum"); b && number <= b->get<double>()) {
      Fail(path, "must be greater than " + Number(*b));
    }
    if (auto b = bound("exclusiveMaximum"); b && number >= b->get<double>()) {
      Fail(path, "must be less than " + Number(*b));
    }
  }

  void CheckString(const json& schema, const std::string& text, const std::string& path) {
    const size_t length = CodePoints(text);
    if (auto min = Count(schema, "minLength"); min && length < *min) {
      Fail(path, "must be at least " + std::to_string(*min) + " characters");
    }
    if (auto max = Count(schema, "maxLength"); max && length > *max) {
      Fail(path, "must be at most " + std::to_string(*max) + " characters");
      return;  // no pattern match on oversized input
    }
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
      if (text.size() > kMaxMatchedBytes) {
        Fail(path, "is too long to check against its pattern");
        return;
      }
      Regex regex(it->get<std::string>());
      if (regex.compiled() && !regex.Search(text)) Fail(path, "must match the pattern " + it->get<std::string>());
    }
  }

  void CheckArray(const json& schema, const json& value, const std::string& path, int depth) {
    if (auto min = Count(schema, "minItems"); min && value.size() < *min) {
      Fail(path, "must have at least " + std::to_string(*min) + " items");
    }
    if (auto max = Count(schema, "maxItems"); max && value.size() > *max) {
      Fail(path, "must have at most " + std::to_string(*max) + " items");
      return;
    }
    if (auto it = schema.find("uniqueItems"); it != schema.end() && it->is_boolean() && it->get<bool>()) {
      for (size_t i = 1; i < value.size() && i < 1000; ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (value[i] == value[j]) {
            Fail(Index(path, i), "repeats item " + std::to_string(j) + " (items must be unique)");
            i = value.size();
            break;
          }
        }
      }
    }
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < value.size() && issues.size() < kMaxIssues; ++i) {
        Check(*items, value[i], Index(path, i), depth + 1);
      }
    }
  }

  void CheckObject(const json& schema, const json& value, const std::string& path, int depth) {
    const auto properties = schema.find("properties");
    const bool has_properties = properties != schema.end() && properties->is_object();
    const auto additional = schema.find("additionalProperties");
    const bool closed = additional != schema.end() && additional->is_boolean() && !additional->get<bool>();
    if (auto required = schema.find("required"); required != schema.end() && required->is_array()) {
      for (const auto& name : *required) {
        if (name.is_string() && !value.contains(name.get<std::string>())) Fail(Join(path, name), "is required");
      }
    }
    for (const auto& [name, member] : value.items()) {
      if (has_properties && properties->contains(name)) {
        Check((*properties)[name], member, Join(path, name), depth + 1);
      } else if (closed) {
        Fail(Join(path, name), "is not a known field");
      }
    }
  }
};

void CollectSecrets(const json& schema, const std::string& path, std::vector<std::string>& out, int depth) {
  if (!schema.is_object() || depth > kMaxSchemaDepth) return;
  auto properties = schema.find("properties");
  if (properties == schema.end() || !properties->is_object()) return;
  for (const auto& [name, sub] : properties->items()) {
    if (IsSecretFlag(sub)) {
      out.push_back(Join(path, name));
    } else {
      CollectSecrets(sub, Join(path, name), out, depth + 1);
    }
  }
}

void Split(const json& schema, const json& config, json& open, json& secret, int depth) {
  const json* properties = nullptr;
  if (schema.is_object()) {
    auto it = schema.find("properties");
    if (it != schema.end() && it->is_object()) properties = &*it;
  }
  for (const auto& [name, value] : config.items()) {
    const json* sub = properties != nullptr && properties->contains(name) ? &(*properties)[name] : nullptr;
    if (sub != nullptr && IsSecretFlag(*sub)) {
      secret[name] = value;
    } else if (sub != nullptr && value.is_object() && depth < kMaxSchemaDepth) {
      json open_part = json::object(), secret_part = json::object();
      Split(*sub, value, open_part, secret_part, depth + 1);
      open[name] = std::move(open_part);
      if (!secret_part.empty()) secret[name] = std::move(secret_part);
    } else {
      open[name] = value;
    }
  }
}

}  // namespace

std::vector<FieldIssue> CheckSchema(const json& schema) {
  SchemaChecker checker;
  if (!schema.is_object() || schema.value("type", json()) != "object") {
    checker.issues.push_back({"type", "the top level must be {\"type\": \"object\", ...}"});
    return checker.issues;
  }
  checker.Check(schema, "", 0, false);
  return checker.issues;
}

std::vector<FieldIssue> Validate(const json& schema, const json& value, const std::string& root) {
  Validator validator;
  validator.Check(schema, value, root, 0);
  return validator.issues;
}

std::vector<std::string> SecretFields(const json& schema) {
  std::vector<std::string> out;
  CollectSecrets(schema, "", out, 0);
  return out;
}

std::pair<json, json> SplitSecrets(const json& schema, const json& config) {
  json open = json::object(), secret = json::object();
  if (config.is_object()) Split(schema, config, open, secret, 0);
  return {std::move(open), std::move(secret)};
}

json MergeObjects(const json& base, const json& overlay) {
  if (!base.is_object() || !overlay.is_object()) return overlay;
  json merged = base;
  for (const auto& [name, value] : overlay.items()) {
    merged[name] = merged.contains(name) ? MergeObjects(merged[name], value) : value;
  }
  return merged;
}

}  // namespace clinicore::sdk::host
