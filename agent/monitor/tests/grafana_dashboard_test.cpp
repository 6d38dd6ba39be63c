// The Grafana dashboard (etc/grafana/networking-wireguard.json) queries only what the agent exports:
// every metric a query names is a series the agent's /metrics has (histograms with their _bucket,
// _sum and _count), and names.h lists exactly the families the agent renders.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "metrics/agent_metrics.h"
#include "metrics/names.h"
#include "monitor/peer_metrics.h"
#include "monitor/tests/support.h"

namespace nwg::monitor {
namespace {

using nlohmann::json;

// Every sample name and every "# TYPE" family in the agent's full exposition.
struct Exported {
  std::set<std::string> series;
  std::set<std::string> families;
};

Exported exported() {
  metrics::AgentMetrics health({"h", "kernel", "1"});
  health.rpcError("get_hubs", "timeout");  // families with no sample until something happens
  PeerReading reading;
  HubReading h;
  h.hub = testing::hubWith(1, 1, 1);
  h.peers.push_back({true, testing::handshakeAt(1766000000), std::nullopt});
  reading.hubs.push_back(h);
  PeerMetricsRenderer peers;
  std::string text;
  health.write(text, 0);
  text += *peers.render(reading);
  Exported out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      out.families.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (!line.empty() && line[0] != '#') {
      out.series.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return out;
}

bool identStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool identChar(char c) {
  return identStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

// `text` without what lies between `open` and its `close` (the delimiters included); a quote
// character as `open` means a string literal with backslash escapes.
std::string without(const std::string& text, char open, char close) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != open) {
      out += text[i];
      continue;
    }
    for (++i; i < text.size() && text[i] != close; ++i) {
      if (open == '"' && text[i] == '\\') ++i;
    }
    out += ' ';
  }
  return out;
}

// The metric names a PromQL expression uses: what is left once strings, label matchers, ranges,
// Grafana variables, grouping clauses, functions, keywords and numbers are taken out.
std::set<std::string> metricsIn(std::string expr) {
  const std::string lv = "label_values(";
  if (size_t at = expr.find(lv); at != std::string::npos) {
    size_t comma = expr.rfind(',');
    expr = expr.substr(at + lv.size(), comma - at - lv.size());
  }
  expr = without(without(without(expr, '"', '"'), '{', '}'), '[', ']');
  std::string plain;  // without $variables and ${variables}
  for (size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] != '$') {
      plain += expr[i];
      continue;
    }
    while (i + 1 < expr.size() && (identChar(expr[i + 1]) || expr[i + 1] == '{' || expr[i + 1] == '}')) ++i;
    plain += ' ';
  }
  static const std::set<std::string> grouping = {"by",       "without",    "on",
                                                 "ignoring", "group_left", "group_right"};
  static const std::set<std::string> keywords = {"and", "or", "unless", "bool", "offset", "inf", "nan"};
  std::set<std::string> names;
  for (size_t i = 0; i < plain.size();) {
    if (!identStart(plain[i]) ||
        (i > 0 && (std::isdigit(static_cast<unsigned char>(plain[i - 1])) || plain[i - 1] == '.'))) {
      ++i;  // not an identifier, or the exponent of a number such as 1e3
      continue;
    }
    size_t end = i;
    while (end < plain.size() && identChar(plain[end])) ++end;
    const std::string word = plain.substr(i, end - i);
    size_t next = end;
    while (next < plain.size() && plain[next] == ' ') ++next;
    bool call = next < plain.size() && plain[next] == '(';
    // "sum by (le) (...)": an aggregation whose grouping comes first.
    for (const char* g : {"by", "without"}) {
      const std::string kw(g);
      if (plain.compare(next, kw.size(), kw) == 0 &&
          (next + kw.size() >= plain.size() || !identChar(plain[next + kw.size()])))
        call = true;
    }
    if (grouping.count(word) && call) {
      end = plain.find(')', next);  // "by (le, kind)": label names, not metrics
      end = end == std::string::npos ? plain.size() : end + 1;
    } else if (!call && !keywords.count(word)) {
      names.insert(word);
    }
    i = end;
  }
  return names;
}

void collect(const json& node, std::vector<std::string>& exprs) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "expr" && value.is_string()) exprs.push_back(value.get<std::string>());
      collect(value, exprs);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) collect(v, exprs);
  }
}

TEST(GrafanaDashboard, NamesTheFamiliesTheAgentRenders) {
  Exported e = exported();
  std::set<std::string> listed(metrics::names::kAllFamilies.begin(), metrics::names::kAllFamilies.end());
  EXPECT_EQ(e.families, listed);
}

TEST(GrafanaDashboard, EveryQueryNamesOnlyMetricsTheAgentExports) {
  std::ifstream in(NWG_DASHBOARD);
  ASSERT_TRUE(in) << NWG_DASHBOARD;
  json dashboard = json::parse(in);
  std::vector<std::string> exprs;
  collect(dashboard["panels"], exprs);
  for (const auto& var : dashboard["templating"]["list"]) {
    if (var.value("type", "") != "query") continue;
    const json& q = var["query"];
    exprs.push_back(q.is_object() ? q["query"].get<std::string>() : q.get<std::string>());
  }
  ASSERT_GE(exprs.size(), 20u);
  Exported e = exported();
  std::set<std::string> used;
  for (const auto& expr : exprs) {
    auto names = metricsIn(expr);
    EXPECT_FALSE(names.empty()) << "no metric in: " << expr;
    for (const auto& name : names) {
      EXPECT_TRUE(e.series.count(name)) << name << " (in: " << expr << ") is not exported by the agent";
      used.insert(name);
    }
  }
  // The dashboard covers what the issue asks for: liveness, traffic, the agent's health.
  for (const char* name :
       {"wireguard_latest_handshake_seconds", "wireguard_sent_bytes_total", "wireguard_received_bytes_total",
        "neutron_wireguard_agent_syncs_total", "neutron_wireguard_agent_sync_duration_seconds_bucket",
        "neutron_wireguard_agent_last_full_sync_timestamp_seconds", "neutron_wireguard_agent_hubs",
        "neutron_wireguard_agent_rpc_errors_total", "neutron_wireguard_agent_rpc_reconnects_total",
        "neutron_wireguard_agent_notification_to_applied_seconds_bucket"}) {
    EXPECT_TRUE(used.count(name)) << name << " is on no panel";
  }
}

TEST(GrafanaDashboard, TheQueryParserFindsMetricsAndOnlyMetrics) {
  EXPECT_EQ(metricsIn(R"(sum by (le, kind) (rate(x_bucket{a=~"$v", b="1e3 y"}[$__rate_interval])) > 1e3)"),
            std::set<std::string>{"x_bucket"});
  EXPECT_EQ(metricsIn("time() - a and b > 0 or vector(0)"), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(metricsIn(R"(label_values(m{p=~"$project"}, hub_port_id))"), std::set<std::string>{"m"});
}

}  // namespace
}  // namespace nwg::monitor
