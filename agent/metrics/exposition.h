// Prometheus text exposition format (version 0.0.4), written by hand into one string: families with
// their HELP and TYPE lines, then samples with escaped label values. Pure; no registry, no I/O, so
// the agent renders each part of /metrics where its data lives and the tests read the exact text.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace nwg::metrics {

// What Prometheus calls the content type of this format.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

struct Label {
  std::string_view name;
  std::string_view value;
};

// A label value as the format wants it: backslash, double quote and line feed escaped.
void appendEscapedLabelValue(std::string& out, std::string_view value);
// HELP text: backslash and line feed escaped (double quotes stay).
void appendEscapedHelp(std::string& out, std::string_view help);
// A sample value: integers exactly, others in the shortest form that reads back the same;
// NaN, +Inf, -Inf as the format spells them.
void appendValue(std::string& out, double value);

// "{a=\"x\",b=\"y\"}" (values escaped), or "" without labels: made once and reused for many samples
// (sampleWithLabelSet) when the same series are written again and again.
std::string labelSet(std::span<const Label> labels);

class ExpositionWriter {
 public:
  // Appends to `out` (which may already hold other families).
  explicit ExpositionWriter(std::string& out) : out_(out) {}

  // "# HELP name help" and "# TYPE name type". Every family appears once per exposition: callers
  // write each family's samples together.
  void family(std::string_view name, MetricType type, std::string_view help);

  // name{labels} value. Metric and label names are the caller's constants (checked by the tests);
  // label values are escaped.
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  // A sample whose label set was made by labelSet().
  void sampleWithLabelSet(std::string_view name, std::string_view label_set, uint64_t value);
  // Counters of bytes exceed 2^53: written as exact integers, never through a double.
  void sample(std::string_view name, std::span<const Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }

 private:
  void labels(std::string_view name, std::span<const Label> labels);

  std::string& out_;
};

// A histogram's fixed buckets and what was observed; thread-compatible (callers lock).
class Histogram {
 public:
  // Upper bounds, strictly increasing; +Inf is implied.
  explicit Histogram(std::initializer_list<double> bounds);

  void observe(double value);
  // name_bucket{le=...}, name_sum and name_count, each with `labels` first.
  void write(ExpositionWriter& writer, std::string_view name, std::span<const Label> labels) const;

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::span<const double> bounds() const { return {bounds_, size_}; }

  static constexpr size_t kMaxBuckets = 24;
  double bounds_[kMaxBuckets] = {};
  uint64_t counts_[kMaxBuckets] = {};  // per bucket, not cumulative
  size_t size_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace nwg::metrics
