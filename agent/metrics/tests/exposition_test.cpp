#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace nwg::metrics {
namespace {

std::string escaped(std::string_view v) {
  std::string out;
  appendEscapedLabelValue(out, v);
  return out;
}

std::string value(double v) {
  std::string out;
  appendValue(out, v);
  return out;
}

TEST(Exposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escaped("plain"), "plain");
  EXPECT_EQ(escaped(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escaped(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escaped("two\nlines"), R"(two\nlines)");
  // Nothing else is touched: tabs, UTF-8, '}' and ',' are fine inside quotes.
  EXPECT_EQ(escaped("t\tü},="), "t\tü},=");
  // A port name cannot forge a second sample: the newline stays inside the quoted value.
  EXPECT_EQ(escaped("x\"} 1\nevil{a=\"b"), R"(x\"} 1\nevil{a=\"b)");
}

TEST(Exposition, HelpEscapesBackslashAndNewlineOnly) {
  std::string out;
  appendEscapedHelp(out, "a \"quoted\" \\ and\nnewline");
  EXPECT_EQ(out, R"(a "quoted" \\ and\nnewline)");
}

TEST(Exposition, ValuesAreExactOrShortest) {
  EXPECT_EQ(value(0), "0");
  EXPECT_EQ(value(42), "42");
  EXPECT_EQ(value(-3), "-3");
  EXPECT_EQ(value(1766000000), "1766000000");  // a unix time, not 1.766e+09
  EXPECT_EQ(value(0.25), "0.25");
  EXPECT_EQ(value(0.1), "0.1");
  EXPECT_EQ(value(1e20), "1e+20");
  EXPECT_EQ(value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(value(std::nan("")), "NaN");
}

TEST(Exposition, FamiliesAndSamples) {
  std::string out;
  ExpositionWriter w(out);
  w.family("wireguard_sent_bytes_total", MetricType::kCounter, "Bytes sent to the peer");
  w.sample("wireguard_sent_bytes_total", {{"interface", "wg-0"}, {"public_key", "k+/="}},
           uint64_t{18446744073709551615u});
  w.family("up", MetricType::kGauge, "Up\nor not");
  w.sample("up", {}, 1.0);
  EXPECT_EQ(out,
            "# HELP wireguard_sent_bytes_total Bytes sent to the peer\n"
            "# TYPE wireguard_sent_bytes_total counter\n"
            "wireguard_sent_bytes_total{interface=\"wg-0\",public_key=\"k+/=\"} 18446744073709551615\n"
            "# HELP up Up\\nor not\n"
            "# TYPE up gauge\n"
            "up 1\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInf) {
  Histogram h({0.125, 1, 8});
  for (double v : {0.0625, 0.125, 0.5, 4.0, 64.0}) h.observe(v);
  std::string out;
  ExpositionWriter w(out);
  const Label kind[] = {{"kind", "deep"}};
  h.write(w, "pass_seconds", kind);
  EXPECT_EQ(out,
            "pass_seconds_bucket{kind=\"deep\",le=\"0.125\"} 2\n"  // "le": 0.125 itself is in it
            "pass_seconds_bucket{kind=\"deep\",le=\"1\"} 3\n"
            "pass_seconds_bucket{kind=\"deep\",le=\"8\"} 4\n"
            "pass_seconds_bucket{kind=\"deep\",le=\"+Inf\"} 5\n"
            "pass_seconds_sum{kind=\"deep\"} 68.6875\n"
            "pass_seconds_count{kind=\"deep\"} 5\n");
  EXPECT_EQ(h.count(), 5u);
}

}  // namespace
}  // namespace nwg::metrics
