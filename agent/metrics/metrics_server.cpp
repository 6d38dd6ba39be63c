#include "metrics/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "metrics/exposition.h"

namespace nwg::metrics {

MetricsServer::MetricsServer(MetricsServerOptions options, Render render)
    : options_(std::move(options)), render_(std::move(render)) {}

MetricsServer::~MetricsServer() {
  stop();
}

Status MetricsServer::start() {
  auto server = std::make_unique<httplib::Server>();
  const size_t threads = options_.threads ? options_.threads : 1;
  // cpp-httplib's default pool has at least 8 threads; a scrape endpoint needs two.
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server->set_payload_max_length(4096);  // nothing here takes a request body
  // cpp-httplib's default sets SO_REUSEPORT, with which a second agent (or anything else) could
  // bind the same port and take half the scrapes: only SO_REUSEADDR (a quick restart may bind
  // again while old connections linger).
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("rendering the metrics failed\n", "text/plain");
  });
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    auto body = std::make_shared<const Body>(render_());
    size_t total = 0;
    for (const auto& part : *body) total += part ? part->size() : 0;
    // A content provider with a known length: the parts are written as they are, never copied
    // into one string, and cpp-httplib does not compress them (see the header).
    res.set_content_provider(
        total, std::string(kContentType), [body](size_t offset, size_t length, httplib::DataSink& sink) {
          for (const auto& part : *body) {
            if (!part) continue;
            if (offset >= part->size()) {
              offset -= part->size();
              continue;
            }
            return sink.write(part->data() + offset, std::min(length, part->size() - offset));
          }
          return false;
        });
  });
  server->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("neutron-wireguard-agent: metrics at /metrics\n", "text/plain");
  });

  const std::string host = options_.address.toString();
  const std::string where =
      options_.address.isV6() ? str("[", host, "]:", options_.port) : str(host, ":", options_.port);
  errno = 0;
  int port = -1;
  if (options_.port == 0) {
    port = server->bind_to_any_port(host);
  } else if (server->bind_to_port(host, options_.port)) {
    port = options_.port;
  }
  if (port <= 0) {
    const int err = errno;
    return Error(str("cannot serve metrics on ", where, ": ", err ? std::strerror(err) : "bind failed",
                     " ([AGENT] metrics_bind)"),
                 err);
  }
  port_ = static_cast<uint16_t>(port);
  server_ = std::move(server);
  listening_ended_.store(false);
  try {
    thread_ = std::thread([this] {
      server_->listen_after_bind();
      listening_ended_.store(true);
    });
  } catch (const std::system_error& e) {
    server_.reset();
    return fail("cannot start the metrics server thread: ", e.what());
  }
  // cpp-httplib's stop() does nothing before its loop runs (is_running): a stop() right after
  // start() would leave the thread accepting for ever. Wait (bounded) until it runs.
  for (int i = 0; i < 5000 && !server_->is_running() && !listening_ended_.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return okStatus();
}

void MetricsServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace nwg::metrics
