// PrivateBroker: runs the shell helpers with bash, picks a free port pair.
#include "private_broker.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace nwg::rpc::interop {
namespace {

bool portFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::unique_ptr<PrivateBroker>> PrivateBroker::start(const std::string& token, bool tls) {
  std::unique_ptr<PrivateBroker> b(new PrivateBroker());
  char tmpl[] = "/tmp/nwg-rabbit-XXXXXX";
  if (!::mkdtemp(tmpl)) return Error::fromErrno(errno, "mkdtemp");
  b->dir_ = tmpl;
  std::filesystem::permissions(b->dir_,
                               std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                   std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                   std::filesystem::perms::others_exec);
  b->node_ = "nwg-" + token + "@localhost";
  std::random_device rd;
  for (int i = 0; i < 50 && b->port_ == 0; ++i) {
    const int p = 20000 + static_cast<int>(rd() % 10000);
    if (portFree(p) && portFree(p + 1) && portFree(p + 20000)) b->port_ = p;
  }
  if (b->port_ == 0) return fail("no free port pair for a private RabbitMQ node");
  if (tls) NWG_RETURN_IF_ERROR(b->makeTls());
  NWG_RETURN_IF_ERROR(b->shell("rabbit_private_start"));
  b->running_ = true;
  return b;
}

Status PrivateBroker::shell(const std::string& function) const {
  const std::string scripts = NWG_SCRIPTS_DIR;
  const std::string cmd = "bash -c 'source \"$0/lib/common.sh\" && source \"$0/lib/rabbitmq.sh\" && " +
                          function + " \"$1\" \"$2\" \"$3\"' '" + scripts + "' '" + dir_ + "' '" + node_ +
                          "' '" + std::to_string(port_) + "'";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) return fail(function, " ", node_, " (port ", port_, ", dir ", dir_, ") failed: status ", rc);
  return okStatus();
}

Status PrivateBroker::makeTls() const {
  const std::string t = dir_ + "/tls";
  // A throwaway CA, a server certificate for localhost/127.0.0.1 and a client certificate, all from the
  // openssl command line; and another CA that signed none of them.
  const std::string cmd =
      "set -e; mkdir -p '" + t + "'; cd '" + t +
      "'; exec >openssl.log 2>&1; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=nwg-test-ca; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "
      "/CN=nwg-other-ca; "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >san.ext; "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
      "-extfile san.ext; "
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=guest; "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2; "
      "chmod 644 *.pem *.key";
  if (std::system(("bash -c \"" + cmd + "\"").c_str()) != 0)
    return fail("cannot create test certificates in ", t);
  const std::string conf =
      "listeners.ssl.default = " + std::to_string(sslPort()) + "\n" + "ssl_options.cacertfile = " + t +
      "/ca.pem\n" + "ssl_options.certfile = " + t + "/server.pem\n" + "ssl_options.keyfile = " + t +
      "/server.key\n" + "ssl_options.verify = verify_peer\n" + "ssl_options.fail_if_no_peer_cert = false\n";
  FILE* f = std::fopen((dir_ + "/rabbitmq.conf").c_str(), "w");
  if (!f) return fail("cannot write ", dir_, "/rabbitmq.conf");
  std::fputs(conf.c_str(), f);
  std::fclose(f);
  return okStatus();
}

namespace {

Status signalNode(const std::string& pid_file, int sig) {
  FILE* f = std::fopen(pid_file.c_str(), "r");
  if (!f) return fail("cannot read ", pid_file);
  long pid = 0;
  const int n = std::fscanf(f, "%ld", &pid);
  std::fclose(f);
  if (n != 1 || pid <= 1) return fail("no pid in ", pid_file);
  if (::kill(static_cast<pid_t>(pid), sig) != 0) return Error::fromErrno(errno, str("kill ", pid));
  return okStatus();
}

}  // namespace

Status PrivateBroker::pause() {
  return signalNode(dir_ + "/rabbitmq.pid", SIGSTOP);
}
Status PrivateBroker::resume() {
  return signalNode(dir_ + "/rabbitmq.pid", SIGCONT);
}

Status PrivateBroker::stop() {
  if (!running_) return okStatus();
  running_ = false;
  return shell("rabbit_private_stop");
}

Status PrivateBroker::restart() {
  NWG_RETURN_IF_ERROR(shell("rabbit_private_start"));
  running_ = true;
  return okStatus();
}

std::string PrivateBroker::transportUrl() const {
  return "rabbit://guest:guest@127.0.0.1:" + std::to_string(port_) + "/";
}

PrivateBroker::~PrivateBroker() {
  if (running_) (void)resume();  // a frozen node cannot stop
  (void)stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace nwg::rpc::interop
