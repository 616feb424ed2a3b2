// Loyalty rule "points-per-spend": points per currency unit spent, with a rounding mode.
//
//   appointment_completed {amount_minor, currency, minor_units = 2, service}  → +points
//   appointment_refunded  {amount_minor, currency, minor_units = 2}           → -points (deduction)
//   client_birthday / referral / signup                                        → the configured bonus
//   anything else                                                              → no award
// Amounts travel in minor units (cents) as integers; points = amount × points_per_unit,
// rounded by `rounding` (floor, round half away from zero, ceil). Tier: the highest configured
// tier whose min_lifetime_points the client reached.
#include <clinicore/sdk/plugin.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using clinicore::sdk::Award;
using clinicore::sdk::Host;
using clinicore::sdk::InvalidInput;
using clinicore::sdk::Json;
using clinicore::sdk::LoyaltyEvent;

class PointsPerSpend : public clinicore::sdk::LoyaltyRule {
 public:
  static constexpr const char* kName = "points-per-spend";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr const char* kDescription =
      "Points per currency unit spent on completed appointments (rounding mode), birthday/referral/signup bonuses, "
      "tiers by lifetime points";
  static constexpr const char* kConfigSchema = R"json({
    "type": "object",
    "additionalProperties": false,
    "required": ["points_per_unit", "currency"],
    "properties": {
      "points_per_unit": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000,
                          "description": "Points per whole currency unit (1 = a point per euro)"},
      "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
      "rounding": {"type": "string", "enum": ["floor", "round", "ceil"], "default": "floor"},
      "min_amount_minor": {"type": "integer", "minimum": 0, "default": 0},
      "bonuses": {"type": "object", "additionalProperties": false,
                  "properties": {"birthday": {"type": "integer", "minimum": 0, "maximum": 100000},
                                 "referral": {"type": "integer", "minimum": 0, "maximum": 100000},
                                 "signup": {"type": "integer", "minimum": 0, "maximum": 100000}}},
      "tiers": {"type": "array", "maxItems": 10,
                "items": {"type": "object", "additionalProperties": false, "required": ["name", "min_lifetime_points"],
                          "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 50},
                                         "min_lifetime_points": {"type": "integer", "minimum": 0}}}}
    }
  })json";

  PointsPerSpend(const Json& config, Host& /*host*/)
      : points_per_unit_(config.at("points_per_unit").get<double>()),
        currency_(config.at("currency").get<std::string>()),
        rounding_(config.value("rounding", std::string("floor"))),
        min_amount_minor_(config.value("min_amount_minor", int64_t{0})),
        bonuses_(config.value("bonuses", Json::object())) {
    for (const auto& tier : config.value("tiers", Json::array())) {
      tiers_.emplace_back(tier.at("min_lifetime_points").get<int64_t>(), tier.at("name").get<std::string>());
    }
  }

  std::vector<Award> Evaluate(const LoyaltyEvent& event, Host& /*host*/) override {
    if (event.type == "appointment_completed" || event.type == "appointment_refunded") {
      const bool refund = event.type == "appointment_refunded";
      const int64_t amount = Amount(event.data);
      if (amount < min_amount_minor_) return {};
      const int64_t points = Points(amount, event.data.value("minor_units", 2));
      if (points == 0) return {};
      const std::string service = event.data.value("service", std::string());
      const std::string reason = Format(points_per_unit_) + " point(s) per " + currency_ +
                                 (service.empty() ? std::string() : " on " + service) + " (" +
                                 Money(amount, event.data) + ", " + rounding_ + ")";
      return {{refund ? -points : points, refund ? "refund: " + reason : reason}};
    }
    for (const char* bonus : {"birthday", "referral", "signup"}) {
      const std::string type = std::string(bonus) == "birthday" ? "client_birthday" : bonus;
      if (event.type == type) {
        const int64_t points = bonuses_.value(bonus, int64_t{0});
        if (points > 0) return {{points, std::string(bonus) + " bonus"}};
        return {};
      }
    }
    return {};
  }

  std::optional<std::optional<std::string>> Tier(const clinicore::sdk::Standing& standing, Host& /*host*/) override {
    if (tiers_.empty()) return std::nullopt;  // no tier rules configured: not offered
    std::optional<std::string> best;
    int64_t best_min = -1;
    for (const auto& [min, name] : tiers_) {
      if (standing.lifetime_points >= min && min > best_min) {
        best = name;
        best_min = min;
      }
    }
    return std::optional<std::optional<std::string>>(best);
  }

 private:
  int64_t Amount(const Json& data) const {
    auto amount = data.find("amount_minor");
    if (amount == data.end() || !amount->is_number_integer()) throw InvalidInput("amount_minor must be an integer");
    const std::string currency = data.value("currency", std::string());
    if (currency != currency_) {
      throw InvalidInput("currency \"" + currency + "\" does not match this rule's " + currency_);
    }
    const int64_t value = amount->get<int64_t>();
    if (value < 0 || value > 1'000'000'000'000LL) throw InvalidInput("amount_minor is out of range");
    return value;
  }

  int64_t Points(int64_t amount_minor, int minor_units) const {
    if (minor_units < 0 || minor_units > 4) throw InvalidInput("minor_units must be 0 to 4");
    const long double units = static_cast<long double>(amount_minor) / std::pow(10.0L, minor_units);
    const long double raw = units * static_cast<long double>(points_per_unit_);
    // Guard against binary fractions (0.1 × 3 = 0.30000000000000004): a hair of tolerance.
    constexpr long double kEpsilon = 1e-9L;
    long double points = 0;
    if (rounding_ == "ceil") {
      points = std::ceil(raw - kEpsilon);
    } else if (rounding_ == "round") {
      points = std::floor(raw + 0.5L + kEpsilon);
    } else {
      points = std::floor(raw + kEpsilon);
    }
    if (points > 1e9L) throw InvalidInput("the award would exceed 1000000000 points");
    return static_cast<int64_t>(points);
  }

  static std::string Format(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
  }

  std::string Money(int64_t amount_minor, const Json& data) const {
    const int units = data.value("minor_units", 2);
    int64_t scale = 1;
    for (int i = 0; i < units; ++i) scale *= 10;
    std::string text = std::to_string(amount_minor / scale);
    if (units > 0) {
      std::string fraction = std::to_string(amount_minor % scale);
      text += "." + std::string(static_cast<size_t>(units) - fraction.size(), '0') + fraction;
    }
    return text + " " + currency_;
  }

  double points_per_unit_;
  std::string currency_;
  std::string rounding_;
  int64_t min_amount_minor_;
  Json bonuses_;
  std::vector<std::pair<int64_t, std::string>> tiers_;
};

}  // namespace

CLINICORE_LOYALTY_RULE_PLUGIN(PointsPerSpend)
