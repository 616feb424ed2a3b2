#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace clinicore::core {

// Label pairs in a fixed order, e.g. {{"route","/healthz"},{"status","200"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A minimal Prometheus registry: counters, gauges (set, or sampled at scrape time) and
// histograms, rendered in the text exposition format. Families are created at start-up;
// label sets are created on first use.
class Metrics {
 public:
  void AddCounter(const std::string& name, const Labels& labels, double delta = 1);
  void SetGauge(const std::string& name, const Labels& labels, double value);
  void ObserveHistogram(const std::string& name, const Labels& labels, double value);

  void DescribeCounter(const std::string& name, const std::string& help);
  void DescribeGauge(const std::string& name, const std::string& help);
  void DescribeHistogram(const std::string& name, const std::string& help, std::vector<double> bounds);
  // A gauge read when /metrics is scraped (pool sizes, queue depth).
  void AddSampledGauge(const std::string& name, const std::string& help, std::function<double()> sample);

  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, double> values;         // counter/gauge: rendered labels → value
    std::map<std::string, Histogram> histograms;  // histogram: rendered labels → data
    std::function<double()> sample;
  };
  Family& FamilyFor(const std::string& name, const char* type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

std::string RenderLabels(const Labels& labels);

}  // namespace clinicore::core
