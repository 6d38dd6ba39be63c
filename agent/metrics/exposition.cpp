#include "metrics/exposition.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace nwg::metrics {

void appendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void appendEscapedHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void appendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  constexpr double kExact = 9007199254740992.0;  // 2^53: every integer below is a double exactly
  std::to_chars_result r;
  if (value == std::trunc(value) && std::fabs(value) < kExact) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, value);  // shortest form that reads back the same
  }
  out.append(buf, r.ptr);
}

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendEscapedHelp(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  switch (type) {
    case MetricType::kCounter:
      out_ += " counter\n";
      break;
    case MetricType::kGauge:
      out_ += " gauge\n";
      break;
    case MetricType::kHistogram:
      out_ += " histogram\n";
      break;
  }
}

namespace {

void appendLabelSet(std::string& out, std::span<const Label> labels) {
  if (labels.empty()) return;
  char sep = '{';
  for (const Label& l : labels) {
    out += sep;
    out += l.name;
    out += "=\"";
    appendEscapedLabelValue(out, l.value);
    out += '"';
    sep = ',';
  }
  out += '}';
}

void appendUnsigned(std::string& out, uint64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

}  // namespace

std::string labelSet(std::span<const Label> labels) {
  std::string out;
  appendLabelSet(out, labels);
  return out;
}

void ExpositionWriter::labels(std::string_view name, std::span<const Label> labels) {
  out_ += name;
  appendLabelSet(out_, labels);
  out_ += ' ';
}

void ExpositionWriter::sampleWithLabelSet(std::string_view name, std::string_view label_set, uint64_t value) {
  out_ += name;
  out_ += label_set;
  out_ += ' ';
  appendUnsigned(out_, value);
  out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  this->labels(name, labels);
  appendValue(out_, value);
  out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, std::span<const Label> labels, uint64_t value) {
  this->labels(name, labels);
  appendUnsigned(out_, value);
  out_ += '\n';
}

Histogram::Histogram(std::initializer_list<double> bounds) {
  assert(bounds.size() <= kMaxBuckets);
  assert(std::is_sorted(bounds.begin(), bounds.end()));
  size_ = std::min(bounds.size(), kMaxBuckets);
  std::copy_n(bounds.begin(), size_, bounds_);
}

void Histogram::observe(double value) {
  // The first bucket whose upper bound holds the value ("le": less or equal); past the last, only
  // the +Inf bucket (count_) has it.
  auto b = bounds();
  auto it = std::lower_bound(b.begin(), b.end(), value);
  if (it != b.end()) ++counts_[it - b.begin()];
  ++count_;
  sum_ += value;
}

void Histogram::write(ExpositionWriter& writer, std::string_view name, std::span<const Label> labels) const {
  std::string bucket_name = std::string(name) + "_bucket";
  std::string le;
  std::vector<Label> with_le(labels.begin(), labels.end());
  with_le.push_back({"le", ""});
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= size_; ++i) {
    le.clear();
    if (i < size_) {
      cumulative += counts_[i];
      appendValue(le, bounds_[i]);
    } else {
      cumulative = count_;
      le = "+Inf";
    }
    with_le.back().value = le;
    writer.sample(bucket_name, with_le, cumulative);
  }
  writer.sample(std::string(name) + "_sum", labels, sum_);
  writer.sample(std::string(name) + "_count", labels, count_);
}

}  // namespace nwg::metrics
