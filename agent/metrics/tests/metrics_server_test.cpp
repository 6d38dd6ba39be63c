#include "metrics/metrics_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <stdexcept>

#include "metrics/exposition.h"

namespace nwg::metrics {
namespace {

MetricsServerOptions anyPort() {
  MetricsServerOptions o;
  o.port = 0;
  return o;
}

TEST(MetricsServer, ServesTheRenderedPartsInOrder) {
  auto peers = std::make_shared<const std::string>(std::string(3 << 20, 'p') + "\n");  // 3 MiB, shared
  std::atomic<int> renders{0};
  MetricsServer server(anyPort(), [&] {
    ++renders;
    return Body{std::make_shared<const std::string>("health 1\n"), nullptr, peers};
  });
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());
  // Prometheus asks for gzip; the body still comes as it is (see metrics_server.h).
  auto res = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res) << static_cast<int>(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kContentType);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->body, "health 1\n" + *peers);
  EXPECT_EQ(renders.load(), 1);

  auto other = client.Get("/other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  server.stop();
  EXPECT_FALSE(httplib::Client("127.0.0.1", server.port()).Get("/metrics"));
}

TEST(MetricsServer, ARenderThatThrowsIsA500AndTheServerGoesOn) {
  std::atomic<bool> broken{true};
  MetricsServer server(anyPort(), [&]() -> Body {
    if (broken.exchange(false)) throw std::runtime_error("bug");
    return {std::make_shared<const std::string>("ok 1\n")};
  });
  ASSERT_TRUE(server.start().ok());
  httplib::Client client("127.0.0.1", server.port());
  auto first = client.Get("/metrics");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 500);
  auto second = client.Get("/metrics");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "ok 1\n");
}

TEST(MetricsServer, AnAddressInUseIsAnErrorNamingIt) {
  MetricsServer first(anyPort(), [] { return Body{}; });
  ASSERT_TRUE(first.start().ok());
  MetricsServerOptions same;
  same.port = first.port();
  MetricsServer second(same, [] { return Body{}; });
  Status s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(str("127.0.0.1:", first.port())), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("metrics_bind"), std::string::npos);
}

}  // namespace
}  // namespace nwg::metrics
