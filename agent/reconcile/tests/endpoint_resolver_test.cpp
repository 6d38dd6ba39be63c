#include "reconcile/endpoint_resolver.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "reconcile/tests/fake_host.h"

namespace nwg::reconcile {
namespace {

using namespace std::chrono_literals;
using State = EndpointResolver::Answer::State;

// Records the names the resolver reported as changed, and lets a test wait for one.
class Changes {
 public:
  void add(const std::string& name) {
    std::lock_guard lock(mu_);
    names_.push_back(name);
    cv_.notify_all();
  }
  bool waitFor(const std::string& name, size_t times = 1) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 30s, [&] {
      return static_cast<size_t>(std::count(names_.begin(), names_.end(), name)) >= times;
    });
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return names_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> names_;
};

class EndpointResolverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    dns_.releaseAll();
    while (resolver_ && resolver_->busy() > 0) std::this_thread::yield();
    resolver_.reset();
  }
  void make(EndpointResolver::Options options = {}) {
    resolver_ =
        std::make_unique<EndpointResolver>([this](const std::string& n) { return dns_.lookup(n); }, options,
                                           [this](const std::string& n) { changes_.add(n); });
  }
  FakeDns dns_;
  Changes changes_;
  std::unique_ptr<EndpointResolver> resolver_;
};

TEST_F(EndpointResolverTest, FirstQueryIsPendingThenTheAnswerIsCachedAndReported) {
  dns_.set("a.example.net", "198.51.100.1");
  make();
  EXPECT_EQ(resolver_->query("a.example.net").state, State::kPending);
  ASSERT_TRUE(changes_.waitFor("a.example.net"));
  auto answer = resolver_->query("a.example.net");
  EXPECT_EQ(answer.state, State::kResolved);
  EXPECT_EQ(answer.address->toString(), "198.51.100.1");
  EXPECT_EQ(resolver_->query("a.example.net").state, State::kResolved);
  EXPECT_EQ(dns_.lookups(), 1);  // fresh answers are not looked up again
}

TEST_F(EndpointResolverTest, WaitReturnsAtTheDeadlineWhenALookupHangs) {
  dns_.block("hang.example.net");
  make();
  EXPECT_EQ(resolver_->query("hang.example.net").state, State::kPending);
  resolver_->wait({"hang.example.net"}, EndpointResolver::Clock::now() + 20ms);  // must return
  EXPECT_EQ(resolver_->query("hang.example.net").state, State::kPending);
  EXPECT_EQ(resolver_->busy(), 1u);
}

TEST_F(EndpointResolverTest, AHungLookupDoesNotHoldUpOtherNames) {
  dns_.block("hang.example.net");
  dns_.set("b.example.net", "198.51.100.2");
  make(EndpointResolver::Options{.workers = 2});
  resolver_->query("hang.example.net");
  resolver_->query("b.example.net");
  ASSERT_TRUE(changes_.waitFor("b.example.net"));
  EXPECT_EQ(resolver_->query("b.example.net").state, State::kResolved);
}

TEST_F(EndpointResolverTest, FailuresAreAnswersAndRetriedAfterTheRetryInterval) {
  EndpointResolver::Options options;
  options.retry_interval = 0ms;
  make(options);
  resolver_->query("nx.example.net");
  ASSERT_TRUE(changes_.waitFor("nx.example.net"));
  auto answer = resolver_->query("nx.example.net");
  EXPECT_EQ(answer.state, State::kFailed);
  EXPECT_NE(answer.error.find("not known"), std::string::npos);
  EXPECT_EQ(dns_.lookups(), 1);  // a query alone does not retry
  dns_.set("nx.example.net", "198.51.100.3");
  resolver_->refresh({"nx.example.net"});  // stale at once (retry_interval 0): looked up again
  ASSERT_TRUE(changes_.waitFor("nx.example.net", 2));
  EXPECT_EQ(resolver_->query("nx.example.net").address->toString(), "198.51.100.3");
}

TEST_F(EndpointResolverTest, RefreshForgetsUnusedNamesAndReResolvesStaleOnes) {
  EndpointResolver::Options options;
  options.refresh_interval = 0ms;
  dns_.set("a.example.net", "198.51.100.1");
  dns_.set("gone.example.net", "198.51.100.9");
  make(options);
  resolver_->query("a.example.net");
  resolver_->query("gone.example.net");
  ASSERT_TRUE(changes_.waitFor("a.example.net"));
  ASSERT_TRUE(changes_.waitFor("gone.example.net"));
  dns_.set("a.example.net", "198.51.100.11");
  resolver_->refresh({"a.example.net"});
  ASSERT_TRUE(changes_.waitFor("a.example.net", 2));  // a changed answer is reported again
  EXPECT_EQ(resolver_->query("a.example.net").address->toString(), "198.51.100.11");
  // "gone" was forgotten: asking again starts from nothing.
  EXPECT_EQ(resolver_->query("gone.example.net").state, State::kPending);
}

TEST_F(EndpointResolverTest, DestructionWithAHungLookupReturnsAndNeverCallsBackAfterwards) {
  dns_.set("hang.example.net", "198.51.100.4");
  dns_.block("hang.example.net");
  // The callback holds `alive`; once the detached worker ends, the state it shares (and with it the
  // callback) is freed, which `watch` sees: the event this test waits for.
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  auto resolver = std::make_unique<EndpointResolver>(
      [this](const std::string& n) { return dns_.lookup(n); }, EndpointResolver::Options{},
      [this, alive](const std::string& n) { changes_.add(n); });
  alive.reset();
  resolver->query("hang.example.net");
  while (dns_.lookups() == 0) std::this_thread::yield();  // the worker is inside the lookup
  resolver.reset();                                       // returns although the lookup still hangs
  dns_.releaseAll();
  while (!watch.expired()) std::this_thread::yield();  // the worker has finished and gone
  EXPECT_EQ(changes_.count(), 0u);
}

}  // namespace
}  // namespace nwg::reconcile
