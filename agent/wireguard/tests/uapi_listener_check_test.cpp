// The UAPI client hands private keys only to a listener that runs as root or as the agent: a socket
// another user planted under a device's name (root makes that user here, so integration) gets nothing.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "testing/testing.h"
#include "wireguard/uapi/uapi_backend.h"

namespace nwg::wg {
namespace {

constexpr uid_t kNobody = 65534;

TEST(UapiListenerCheck, ASocketOfAnotherUserIsSentNothing) {
  NWG_REQUIRE_ROOT();
  ASSERT_TRUE(initCrypto().ok());
  char tmpl[] = "/tmp/nwg-uapi-owner-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);  // so that "nobody" can plant its socket there
  const std::string path = dir + "/wg-planted.sock";
  int ready[2];
  int result[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(result), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The other user: listen, accept one connection, count what arrives until the client closes.
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s, 1) != 0) ::_exit(3);
    char one = 1;
    (void)::write(ready[1], &one, 1);
    int c = ::accept(s, nullptr, nullptr);
    long total = 0;
    char buf[4096];
    for (ssize_t n; (n = ::read(c, buf, sizeof buf)) > 0;) total += n;
    (void)::write(result[1], &total, sizeof total);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(result[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the other user's listener did not start";

  UapiBackendOptions o;
  o.socket_dir = dir;
  o.wireguard_go = "/nonexistent/wireguard-go";
  o.request_timeout = std::chrono::milliseconds(5000);
  UapiBackend backend(o);
  Device update;
  update.private_key = generatePrivateKey();
  Status s = backend.set({"", "wg-planted"}, update);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, EPERM) << s.error().message;
  EXPECT_NE(s.error().message.find("uid 65534"), std::string::npos) << s.error().message;

  long received = -1;
  ASSERT_EQ(::read(result[0], &received, sizeof received), static_cast<ssize_t>(sizeof received));
  EXPECT_EQ(received, 0) << "the listener was sent bytes (a private key)";
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(ready[0]);
  ::close(result[0]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nwg::wg
