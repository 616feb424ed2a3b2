#include "platform/core/metrics.hpp"

#include <cmath>
#include <sstream>

namespace clinicore::core {
namespace {

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string FormatNumber(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(12);
  out << value;
  return out.str();
}

std::string WithLabel(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  return out + "}";
}

Metrics::Family& Metrics::FamilyFor(const std::string& name, const char* type) {
  Family& family = families_[name];
  if (family.type.empty()) family.type = type;
  return family;
}

void Metrics::DescribeCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  FamilyFor(name, "counter").help = help;
}

void Metrics::DescribeGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mutex_);
  FamilyFor(name, "gauge").help = help;
}

void Metrics::DescribeHistogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, "histogram");
  family.help = help;
  family.bounds = std::move(bounds);
}

void Metrics::AddSampledGauge(const std::string& name, const std::string& help, std::function<double()> sample) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, "gauge");
  family.help = help;
  family.sample = std::move(sample);
}

void Metrics::AddCounter(const std::string& name, const Labels& labels, double delta) {
  std::string key = RenderLabels(labels);
  std::lock_guard lock(mutex_);
  FamilyFor(name, "counter").values[key] += delta;
}

void Metrics::SetGauge(const std::string& name, const Labels& labels, double value) {
  std::string key = RenderLabels(labels);
  std::lock_guard lock(mutex_);
  FamilyFor(name, "gauge").values[key] = value;
}

void Metrics::ObserveHistogram(const std::string& name, const Labels& labels, double value) {
  std::string key = RenderLabels(labels);
  std::lock_guard lock(mutex_);
  Family& family = FamilyFor(name, "histogram");
  Histogram& histogram = family.histograms[key];
  if (histogram.buckets.empty()) histogram.buckets.assign(family.bounds.size(), 0);
  for (size_t i = 0; i < family.bounds.size(); ++i) {
    if (value <= family.bounds[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += value;
}

std::string Metrics::RenderPrometheus() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) out << "# HELP " << name << ' ' << family.help << '\n';
    out << "# TYPE " << name << ' ' << family.type << '\n';
    if (family.sample) out << name << ' ' << FormatNumber(family.sample()) << '\n';
    for (const auto& [labels, value] : family.values) out << name << labels << ' ' << FormatNumber(value) << '\n';
    for (const auto& [labels, histogram] : family.histograms) {
      for (size_t i = 0; i < family.bounds.size(); ++i) {
        out << name << "_bucket" << WithLabel(labels, "le=\"" + FormatNumber(family.bounds[i]) + "\"") << ' '
            << histogram.buckets[i] << '\n';
      }
      out << name << "_bucket" << WithLabel(labels, "le=\"+Inf\"") << ' ' << histogram.count << '\n';
      out << name << "_sum" << labels << ' ' << FormatNumber(histogram.sum) << '\n';
      out << name << "_count" << labels << ' ' << histogram.count << '\n';
    }
  }
  return out.str();
}

}  // namespace clinicore::core
