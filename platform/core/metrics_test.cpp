#include "platform/core/metrics.hpp"

#include <gtest/gtest.h>

namespace clinicore::core {
namespace {

TEST(MetricsTest, RendersCountersWithEscapedLabels) {
  Metrics metrics;
  metrics.DescribeCounter("requests_total", "Requests.");
  metrics.AddCounter("requests_total", {{"route", "/a\"b"}, {"status", "200"}});
  metrics.AddCounter("requests_total", {{"route", "/a\"b"}, {"status", "200"}}, 2);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("requests_total{route=\"/a\\\"b\",status=\"200\"} 3"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics metrics;
  metrics.DescribeHistogram("latency_seconds", "Latency.", {0.1, 1});
  metrics.ObserveHistogram("latency_seconds", {{"route", "/x"}}, 0.05);
  metrics.ObserveHistogram("latency_seconds", {{"route", "/x"}}, 0.5);
  metrics.ObserveHistogram("latency_seconds", {{"route", "/x"}}, 5);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count{route=\"/x\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_sum{route=\"/x\"} 5.55"), std::string::npos) << text;
}

TEST(MetricsTest, SetGaugesKeepTheirLastValuePerLabelSet) {
  Metrics metrics;
  metrics.DescribeGauge("queue_depth", "Jobs waiting.");
  metrics.SetGauge("queue_depth", {{"kind", "a.b"}}, 5);
  metrics.SetGauge("queue_depth", {{"kind", "a.b"}}, 2);
  metrics.SetGauge("queue_depth", {{"kind", "c.d"}}, 0);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE queue_depth gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("queue_depth{kind=\"a.b\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("queue_depth{kind=\"c.d\"} 0\n"), std::string::npos) << text;
}

TEST(MetricsTest, SampledGaugeIsReadAtScrapeTime) {
  Metrics metrics;
  int value = 1;
  metrics.AddSampledGauge("pool_in_use", "In use.", [&] { return value; });
  value = 7;
  EXPECT_NE(metrics.RenderPrometheus().find("pool_in_use 7"), std::string::npos);
}

}  // namespace
}  // namespace clinicore::core
