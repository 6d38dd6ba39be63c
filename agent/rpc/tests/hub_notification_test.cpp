// hubs_changed: only well-formed lists of port IDs reach the agent; a huge list means "re-sync
// everything"; anything else is dropped with one warning line that carries no raw bytes.
#include <gtest/gtest.h>

#include "rpc/envelope.h"
#include "rpc/neutron/hub_notification_consumer.h"
#include "rpc/rpc_request.h"
#include "support/log_capture.h"

namespace nwg::rpc {
namespace {

using nlohmann::json;

const std::string kHub1 = "c0ffee00-1111-2222-3333-444455556666";
const std::string kHub2 = "0123abcd-ef01-4567-89ab-cdef01234567";

RpcRequest notification(json args) {
  RpcRequest r;
  r.method = "hubs_changed";
  r.version = "1.0";
  r.args = std::move(args);
  return r;
}

class HubNotificationConsumerTest : public ::testing::Test {
 protected:
  testing::LogCapture capture_;
  std::vector<std::optional<std::vector<std::string>>> got_;
  HubNotificationConsumer consumer_{[this](const auto& ids) { got_.push_back(ids); }, capture_.log()};
};

TEST(PortIdTest, OnlyLowercaseDashedUuids) {
  EXPECT_TRUE(isPortId(kHub1));
  EXPECT_TRUE(isPortId(kHub2));
  EXPECT_FALSE(isPortId(""));
  EXPECT_FALSE(isPortId("C0FFEE00-1111-2222-3333-444455556666"));  // Neutron writes lowercase
  EXPECT_FALSE(isPortId("c0ffee0011112222333344445555666677"));
  EXPECT_FALSE(isPortId("c0ffee00-1111-2222-3333-44445555666"));
  EXPECT_FALSE(isPortId("c0ffee00-1111-2222-3333-4444555566667"));
  EXPECT_FALSE(isPortId("c0ffee00-1111-2222-3333_444455556666"));
  EXPECT_FALSE(isPortId("c0ffee00-1111-2222-3333-44445555666g"));
  EXPECT_FALSE(isPortId(std::string("c0ffee00-1111-2222-3333-44445555666\0", 36)));
}

TEST_F(HubNotificationConsumerTest, DeliversHubIdsFromTheDriversFanoutCast) {
  // The message the driver's WireGuardAgentNotifyAPI casts (version 1.0, namespace none).
  auto decoded = RpcRequest::fromInner(
      *Envelope::decode(Envelope::encode(notification({{"hub_ids", {kHub1, kHub2}}}).toInner())));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(*decoded).ok());
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(notification({{"hub_ids", json::array()}})).ok());
  ASSERT_EQ(got_.size(), 2u);
  EXPECT_EQ(got_[0], (std::vector<std::string>{kHub1, kHub2}));
  EXPECT_EQ(got_[1], std::vector<std::string>{});
  EXPECT_TRUE(capture_.lines().empty());
}

TEST_F(HubNotificationConsumerTest, MalformedNotificationsNeverReachTheAgent) {
  const json bad[] = {
      json::object(),
      json{{"hub_ids", nullptr}},
      json{{"hub_ids", "c0ffee00-1111-2222-3333-444455556666"}},
      json{{"hub_ids", {kHub1, 7}}},
      json{{"hub_ids", {kHub1, "h2"}}},
      json{{"hub_ids", {json::array({kHub1})}}},
      json{{"hub_ids", {"../../etc/passwd"}}},
  };
  for (const auto& args : bad) {
    EXPECT_TRUE(consumer_.dispatcher()->dispatch(notification(args)).ok()) << args.dump();
  }
  EXPECT_TRUE(got_.empty());
  const auto lines = capture_.lines();
  ASSERT_EQ(lines.size(), std::size(bad));  // one warning line each
  for (const auto& line : lines) {
    EXPECT_NE(line.find("WARNING"), std::string::npos) << line;
    EXPECT_NE(line.find("dropping a malformed hubs_changed notification"), std::string::npos) << line;
  }
}

TEST_F(HubNotificationConsumerTest, ControlCharactersInAnIdAreEscapedInTheWarning) {
  const std::string evil = "c0ffee00\n2026-01-01 00:00:00.000 1 ERROR forged line\x1b[2J";
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(notification({{"hub_ids", {evil}}})).ok());
  EXPECT_TRUE(got_.empty());
  const auto lines = capture_.lines();
  ASSERT_EQ(lines.size(), 1u) << capture_.text();
  EXPECT_NE(lines[0].find("'c0ffee00\\n2026-01-01 00:00:00.000 1 ERROR...("), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find('\x1b'), std::string::npos);
}

TEST_F(HubNotificationConsumerTest, MoreThanTheBoundMeansReSyncEverything) {
  json ids = json::array();
  for (size_t i = 0; i <= HubNotificationConsumer::kMaxHubIds; ++i) ids.push_back(kHub1);
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(notification({{"hub_ids", ids}})).ok());
  ids.erase(ids.size() - 1);
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(notification({{"hub_ids", ids}})).ok());
  ASSERT_EQ(got_.size(), 2u);
  EXPECT_FALSE(got_[0].has_value());
  ASSERT_TRUE(got_[1].has_value());
  EXPECT_EQ(got_[1]->size(), HubNotificationConsumer::kMaxHubIds);
  const auto lines = capture_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("names 10001 hubs (more than 10000): re-syncing every hub"), std::string::npos)
      << lines[0];
}

TEST_F(HubNotificationConsumerTest, OtherVersionsAndMethodsAreRefusedAsOsloWould) {
  RpcRequest r = notification({{"hub_ids", {kHub1}}});
  r.version = "1.1";
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(r).error()->isUnsupportedVersion());
  r.version = "1.0";
  r.method = "other";
  EXPECT_TRUE(consumer_.dispatcher()->dispatch(r).error()->isNoSuchMethod());
  EXPECT_TRUE(got_.empty());
}

}  // namespace
}  // namespace nwg::rpc
