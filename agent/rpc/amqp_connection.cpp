// AmqpConnection over rabbitmq-c 0.11. Reads use amqp_consume_message() with a zero timeout: a frame that
// is not a delivery is put back by the library and read here with amqp_simple_wait_frame_noblock(), which
// is how confirms (basic.ack/nack), returns, cancels and channel/connection closes are seen. Each such call
// into the library also sends a heartbeat when one is due and detects a silent broker.
#include "rpc/amqp_connection.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>
#include <vector>

#include "base/unique_fd.h"

namespace nwg::rpc {
namespace {

amqp_bytes_t bytes(std::string_view s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());  // rabbitmq-c takes non-const pointers but does not write
  return b;
}

std::string text(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

// Text the broker chose (reply texts, consumer tags): never raw into an error message or a log line.
std::string quoted(amqp_bytes_t b) {
  return sanitizeForLog(std::string_view(static_cast<const char*>(b.bytes), b.len));
}

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string libraryError(int status) {
  return amqp_error_string2(status);
}

// AMQP table built from owned strings (the entries point into `storage`).
class FieldTable {
 public:
  void addInt(const std::string& key, int32_t value) {
    amqp_table_entry_t e{};
    e.key = bytes(keep(key));
    e.value.kind = AMQP_FIELD_KIND_I32;
    e.value.value.i32 = value;
    entries_.push_back(e);
  }
  void addString(const std::string& key, const std::string& value) {
    amqp_table_entry_t e{};
    e.key = bytes(keep(key));
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(keep(value));
    entries_.push_back(e);
  }
  void addBool(const std::string& key, bool value) {
    amqp_table_entry_t e{};
    e.key = bytes(keep(key));
    e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    e.value.value.boolean = value ? 1 : 0;
    entries_.push_back(e);
  }
  void addTable(const std::string& key, amqp_table_t table) {
    amqp_table_entry_t e{};
    e.key = bytes(keep(key));
    e.value.kind = AMQP_FIELD_KIND_TABLE;
    e.value.value.table = table;
    entries_.push_back(e);
  }
  amqp_table_t table() {
    amqp_table_t t;
    t.num_entries = static_cast<int>(entries_.size());
    t.entries = entries_.empty() ? nullptr : entries_.data();
    return t;
  }

 private:
  const std::string& keep(const std::string& s) {
    storage_.push_back(std::make_unique<std::string>(s));
    return *storage_.back();
  }
  std::vector<std::unique_ptr<std::string>> storage_;
  std::vector<amqp_table_entry_t> entries_;
};

}  // namespace

struct AmqpConnection::State {
  amqp_connection_state_t conn = nullptr;
  ConnectInterrupt* interrupt = nullptr;  // armed with our socket until it is closed
  bool alive = false;
  ~State() { destroy(); }
  void destroy() {
    if (interrupt) interrupt->disarm();
    interrupt = nullptr;
    if (conn) amqp_destroy_connection(conn);
    conn = nullptr;
  }
};

namespace {

using Clock = std::chrono::steady_clock;

// A TCP connection to host:port made here rather than by rabbitmq-c, so that the wait polls the
// interrupt's wake fd too: stop() ends a connect to an unreachable broker at once. Same socket options
// as rabbitmq-c's (non-blocking, close-on-exec, TCP_NODELAY, SO_KEEPALIVE).
Result<UniqueFd> connectTcp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout,
                            ConnectInterrupt* interrupt, const std::string& peer) {
  const auto deadline = Clock::now() + timeout;
  addrinfo hint{};
  hint.ai_family = AF_UNSPEC;
  hint.ai_socktype = SOCK_STREAM;
  hint.ai_protocol = IPPROTO_TCP;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hint, &list); rc != 0) {
    return fail("cannot connect to RabbitMQ ", peer, ": cannot resolve ", host, ": ", ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(list, &::freeaddrinfo);
  std::string why = "no address";
  for (const addrinfo* a = list; a; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      why = std::strerror(errno);
      continue;
    }
    while (true) {
      if (interrupt && interrupt->requested()) return fail("connecting to RabbitMQ ", peer, ": interrupted");
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return fail("cannot connect to RabbitMQ ", peer, ": timed out");
      pollfd fds[2] = {{fd.get(), POLLOUT, 0}, {interrupt ? interrupt->wakeFd() : -1, POLLIN, 0}};
      // Bounded slices: an interrupt without a wake fd is still noticed within 100 ms.
      const int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 100)));
      if (n < 0 && errno != EINTR) return Error::fromErrno(errno, "poll while connecting to RabbitMQ");
      if (n > 0 && fds[0].revents) break;
      if (n > 0 && fds[1].revents) interrupt->drainWake();
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) return fd;
    why = std::strerror(err ? err : errno);
  }
  return fail("cannot connect to RabbitMQ ", peer, ": ", why);
}

bool isIpAddress(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// TLS settings on rabbitmq-c's socket. rabbitmq-c 0.11 checks only DNS names (no IP subjectAltNames),
// so the name check is OpenSSL's (the verify parameters of the socket's own SSL_CTX), and rabbitmq-c
// rejects the connection when OpenSSL's verification result is not OK.
Status setUpTls(amqp_socket_t* socket, const AmqpConnectOptions& o, const std::string& peer) {
  const config::RabbitOptions& r = o.rabbit;
  amqp_ssl_socket_set_verify_hostname(socket, 0);
  if (!r.ssl_verify_broker_certificate) {
    amqp_ssl_socket_set_verify_peer(socket, 0);
  } else {
    amqp_ssl_socket_set_verify_peer(socket, 1);
    const std::string ca = r.ssl_ca_file.empty() ? AmqpConnection::kSystemCaFile : r.ssl_ca_file;
    if (amqp_ssl_socket_set_cacert(socket, ca.c_str()) != AMQP_STATUS_OK) {
      return fail("RabbitMQ ", peer, ": cannot load the CA certificates ", ca,
                  r.ssl_ca_file.empty() ? " (the system's: ssl_ca_file is not set)" : " (ssl_ca_file)");
    }
    if (r.ssl_enforce_hostname_verification) {
      auto* ctx = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
      const int set = isIpAddress(o.host) ? X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str())
                                          : X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
      if (set != 1) return fail("RabbitMQ ", peer, ": cannot set up host name verification for ", o.host);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
  }
  if (!r.ssl_cert_file.empty() &&
      amqp_ssl_socket_set_key(socket, r.ssl_cert_file.c_str(), r.ssl_key_file.c_str()) != AMQP_STATUS_OK) {
    return fail("RabbitMQ ", peer, ": cannot load ssl_cert_file ", r.ssl_cert_file, " / ssl_key_file ",
                r.ssl_key_file);
  }
  if (amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
    return fail("RabbitMQ ", peer, ": cannot restrict TLS to version 1.2 or later");
  }
  return okStatus();
}

}  // namespace

AmqpConnection::AmqpConnection(std::unique_ptr<State> state) : s_(std::move(state)) {}

AmqpConnection::~AmqpConnection() {
  close();
}

Result<std::unique_ptr<AmqpTransport>> AmqpConnectionFactory::open(const AmqpConnectOptions& options,
                                                                   ConnectInterrupt& interrupt) {
  NWG_ASSIGN_OR_RETURN(auto connection, AmqpConnection::open(options, &interrupt));
  return std::unique_ptr<AmqpTransport>(std::move(connection));
}

Result<std::unique_ptr<AmqpConnection>> AmqpConnection::open(const AmqpConnectOptions& o,
                                                             ConnectInterrupt* interrupt) {
  const bool v6 = o.host.find(':') != std::string::npos;
  const std::string peer = str(v6 ? "[" : "", o.host, v6 ? "]" : "", ":", o.port);
  if (interrupt && interrupt->requested()) return fail("connecting to RabbitMQ ", peer, ": interrupted");
  auto state = std::make_unique<State>();
  state->conn = amqp_new_connection();
  if (!state->conn) return fail("RabbitMQ ", peer, ": out of memory");

  timeval connect_tv = toTimeval(o.connect_timeout);
  if (o.rabbit.ssl) {
    amqp_socket_t* socket = amqp_ssl_socket_new(state->conn);
    if (!socket) return fail("RabbitMQ ", peer, ": cannot create a TLS socket");
    NWG_RETURN_IF_ERROR(setUpTls(socket, o, peer));
    const int rc = amqp_socket_open_noblock(socket, o.host.c_str(), o.port, &connect_tv);
    if (rc != AMQP_STATUS_OK) {
      std::string why = libraryError(rc);
      if (rc == AMQP_STATUS_SSL_PEER_VERIFY_FAILED) {
        why += o.rabbit.ssl_enforce_hostname_verification
                   ? str(" (not signed by a CA of ",
                         o.rabbit.ssl_ca_file.empty() ? kSystemCaFile : o.rabbit.ssl_ca_file.c_str(),
                         ", or not issued for ", o.host, ")")
                   : str(" (not signed by a CA of ",
                         o.rabbit.ssl_ca_file.empty() ? kSystemCaFile : o.rabbit.ssl_ca_file.c_str(), ")");
      }
      return fail("cannot connect to RabbitMQ ", peer, " over TLS: ", why);
    }
  } else {
    amqp_socket_t* socket = amqp_tcp_socket_new(state->conn);
    if (!socket) return fail("RabbitMQ ", peer, ": cannot create a socket");
    NWG_ASSIGN_OR_RETURN(UniqueFd fd, connectTcp(o.host, o.port, o.connect_timeout, interrupt, peer));
    amqp_tcp_socket_set_sockfd(socket, fd.release());  // rabbitmq-c closes it from now on
  }
  if (interrupt) {
    state->interrupt = interrupt;
    interrupt->arm(amqp_socket_get_sockfd(amqp_get_socket(state->conn)));
  }
  amqp_set_handshake_timeout(state->conn, &connect_tv);
  timeval rpc_tv = toTimeval(o.rpc_timeout);
  amqp_set_rpc_timeout(state->conn, &rpc_tv);

  FieldTable capabilities;
  capabilities.addBool("consumer_cancel_notify", true);
  capabilities.addBool("connection.blocked", true);
  capabilities.addBool("authentication_failure_close", true);
  FieldTable properties;
  properties.addTable("capabilities", capabilities.table());
  if (!o.connection_name.empty()) properties.addString("connection_name", o.connection_name);
  const amqp_table_t props = properties.table();

  amqp_rpc_reply_t login;
  if (o.rabbit.rabbit_login_method == "EXTERNAL") {
    login = amqp_login_with_properties(state->conn, o.vhost.c_str(), 0, 131072,
                                       o.rabbit.heartbeat_timeout_threshold, &props,
                                       AMQP_SASL_METHOD_EXTERNAL, o.username.c_str());
  } else {
    // AMQPLAIN (oslo's default) carries the same user name and password as PLAIN; rabbitmq-c speaks PLAIN.
    login = amqp_login_with_properties(state->conn, o.vhost.c_str(), 0, 131072,
                                       o.rabbit.heartbeat_timeout_threshold, &props, AMQP_SASL_METHOD_PLAIN,
                                       o.username.c_str(), o.password.c_str());
  }
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string why;
    if (login.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      why = libraryError(login.library_error);
    } else if (login.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
               login.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* m = static_cast<amqp_connection_close_t*>(login.reply.decoded);
      why = str(m->reply_code, " ", quoted(m->reply_text));
    } else {
      why = "unexpected answer";
    }
    if (interrupt && interrupt->requested()) why = "interrupted";
    return fail("cannot log in to RabbitMQ ", peer, " as '", o.username, "' (vhost '", o.vhost, "'): ", why);
  }
  state->alive = true;

  std::unique_ptr<AmqpConnection> c(new AmqpConnection(std::move(state)));
  c->peer_ = peer;
  c->max_body_bytes_ = o.max_body_bytes;
  for (uint16_t ch : {kPublishChannel, kConsumeChannel, kDeclareChannel})
    NWG_RETURN_IF_ERROR(c->openChannel(ch));
  if (o.rabbit.rabbit_qos_prefetch_count > 0) {
    amqp_basic_qos(c->s_->conn, kConsumeChannel, 0, static_cast<uint16_t>(o.rabbit.rabbit_qos_prefetch_count),
                   0);
    NWG_RETURN_IF_ERROR(c->checkReply("basic.qos", kConsumeChannel));
  }
  return c;
}

Status AmqpConnection::openChannel(uint16_t channel) {
  amqp_channel_open(s_->conn, channel);
  NWG_RETURN_IF_ERROR(checkReply(str("opening channel ", channel), channel));
  if (channel == kPublishChannel) {
    amqp_confirm_select(s_->conn, channel);
    NWG_RETURN_IF_ERROR(checkReply("confirm.select", channel));
    next_publish_seq_ = 1;  // confirm sequence numbers restart on a new channel
  }
  return okStatus();
}

Status AmqpConnection::checkReply(std::string_view what, uint16_t channel) {
  const amqp_rpc_reply_t r = amqp_get_rpc_reply(s_->conn);
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return okStatus();
    case AMQP_RESPONSE_NONE:
      s_->alive = false;
      return fail("RabbitMQ ", peer_, ": ", what, ": no answer");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      s_->alive = false;
      return fail("RabbitMQ ", peer_, ": ", what, ": ", libraryError(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
    const std::string why = str(m->reply_code, " ", quoted(m->reply_text));
    amqp_channel_close_ok_t ok{};
    amqp_send_method(s_->conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    Error refused = fail("RabbitMQ ", peer_, " refused ", what, ": ", why);
    // Only this channel was closed; reopen it so the connection stays usable.
    if (auto reopened = openChannel(channel); !reopened.ok()) s_->alive = false;
    return refused;
  }
  if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
    amqp_connection_close_ok_t ok{};
    amqp_send_method(s_->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    s_->alive = false;
    return fail("RabbitMQ ", peer_, " closed the connection during ", what, ": ", m->reply_code, " ",
                quoted(m->reply_text));
  }
  s_->alive = false;
  return fail("RabbitMQ ", peer_, ": ", what, ": unexpected answer");
}

bool AmqpConnection::alive() const {
  return s_ && s_->alive;
}

int AmqpConnection::fd() const {
  return amqp_socket_get_sockfd(amqp_get_socket(s_->conn));
}

bool AmqpConnection::hasBufferedInput() const {
  return amqp_frames_enqueued(s_->conn) || amqp_data_in_buffer(s_->conn);
}

int AmqpConnection::heartbeat() const {
  return amqp_get_heartbeat(s_->conn);
}

Status AmqpConnection::declareExchange(const ExchangeSpec& e) {
  amqp_exchange_declare(s_->conn, kDeclareChannel, bytes(e.name), bytes(e.type), 0, e.durable ? 1 : 0,
                        e.auto_delete ? 1 : 0, 0, amqp_empty_table);
  return checkReply(str("exchange.declare ", e.name, " (", e.type, ", durable=", e.durable,
                        ", auto_delete=", e.auto_delete, ")"),
                    kDeclareChannel);
}

Status AmqpConnection::declareQueue(const QueueSpec& q) {
  FieldTable args;
  for (const auto& a : q.arguments) {
    if (const auto* i = std::get_if<int32_t>(&a.value)) {
      args.addInt(a.key, *i);
    } else {
      args.addString(a.key, std::get<std::string>(a.value));
    }
  }
  amqp_queue_declare(s_->conn, kDeclareChannel, bytes(q.name), 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0,
                     q.auto_delete ? 1 : 0, args.table());
  NWG_RETURN_IF_ERROR(checkReply(str("queue.declare ", q.name, " (durable=", q.durable, ", auto_delete=",
                                     q.auto_delete, ", ", q.arguments.size(), " arguments)"),
                                 kDeclareChannel));
  if (q.bind_exchange.empty()) return okStatus();
  amqp_queue_bind(s_->conn, kDeclareChannel, bytes(q.name), bytes(q.bind_exchange), bytes(q.routing_key),
                  amqp_empty_table);
  return checkReply(str("queue.bind ", q.name, " to ", q.bind_exchange), kDeclareChannel);
}

Status AmqpConnection::deleteQueue(const std::string& queue) {
  amqp_queue_delete(s_->conn, kDeclareChannel, bytes(queue), 0, 0);
  return checkReply(str("queue.delete ", queue), kDeclareChannel);
}

Status AmqpConnection::consume(const std::string& queue, const std::string& consumer_tag) {
  amqp_basic_consume(s_->conn, kConsumeChannel, bytes(queue), bytes(consumer_tag), 0, 0, 0, amqp_empty_table);
  Status st = checkReply(str("basic.consume ", queue), kConsumeChannel);
  // A refused consume closed the consume channel and with it every other consumer.
  if (!st.ok()) s_->alive = false;
  return st;
}

Status AmqpConnection::cancel(const std::string& consumer_tag) {
  amqp_basic_cancel(s_->conn, kConsumeChannel, bytes(consumer_tag));
  return checkReply(str("basic.cancel ", consumer_tag), kConsumeChannel);
}

Result<uint64_t> AmqpConnection::publish(const std::string& exchange, const std::string& routing_key,
                                         std::string_view body, bool mandatory,
                                         std::optional<int64_t> expiration_ms) {
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
                 AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG;
  props.content_type = bytes("application/json");
  props.content_encoding = bytes("utf-8");
  props.headers = amqp_empty_table;
  props.delivery_mode = 2;
  props.priority = 0;
  std::string expiration;
  if (expiration_ms) {
    expiration = std::to_string(*expiration_ms);
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = bytes(expiration);
  }
  const int rc = amqp_basic_publish(s_->conn, kPublishChannel, bytes(exchange), bytes(routing_key),
                                    mandatory ? 1 : 0, 0, &props, bytes(body));
  if (rc != AMQP_STATUS_OK) {
    s_->alive = false;
    return fail("RabbitMQ ", peer_, ": publishing to '", exchange, "' with routing key '", routing_key,
                "': ", libraryError(rc));
  }
  return next_publish_seq_++;
}

Status AmqpConnection::ack(uint64_t delivery_tag) {
  const int rc = amqp_basic_ack(s_->conn, kConsumeChannel, delivery_tag, 0);
  if (rc != AMQP_STATUS_OK) {
    s_->alive = false;
    return fail("RabbitMQ ", peer_, ": basic.ack: ", libraryError(rc));
  }
  return okStatus();
}

Result<AmqpEvent> AmqpConnection::poll() {
  if (!s_->alive) return fail("RabbitMQ ", peer_, ": connection is closed");
  timeval zero{};
  amqp_envelope_t env;
  const amqp_rpc_reply_t r = amqp_consume_message(s_->conn, &env, &zero, 0);
  AmqpEvent ev;
  if (r.reply_type == AMQP_RESPONSE_NORMAL) {
    ev.kind = AmqpEvent::Kind::kDelivery;
    ev.consumer_tag = text(env.consumer_tag);
    ev.delivery_tag = env.delivery_tag;
    ev.exchange = text(env.exchange);
    ev.routing_key = text(env.routing_key);
    ev.body_size = env.message.body.len;
    if (ev.body_size <= max_body_bytes_) ev.body = text(env.message.body);  // else refused unread
    amqp_destroy_envelope(&env);
    return ev;
  }
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) return ev;
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
    // A channel or the connection was closed while a message was being read.
    s_->alive = false;
    return fail("RabbitMQ ", peer_, ": the broker closed a channel while delivering a message");
  }
  if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION || r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
    s_->alive = false;
    const int err =
        r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? r.library_error : AMQP_STATUS_UNEXPECTED_STATE;
    return fail("RabbitMQ ", peer_, ": connection lost: ", libraryError(err));
  }

  // Not a delivery: read the frame the library put back.
  amqp_frame_t frame;
  const int rc = amqp_simple_wait_frame_noblock(s_->conn, &frame, &zero);
  if (rc == AMQP_STATUS_TIMEOUT) return ev;
  if (rc != AMQP_STATUS_OK) {
    s_->alive = false;
    return fail("RabbitMQ ", peer_, ": connection lost: ", libraryError(rc));
  }
  if (frame.frame_type != AMQP_FRAME_METHOD) return ev;  // a stray header/body frame: nothing to do
  const uint16_t channel = frame.channel;
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kConfirm;
      ev.delivery_tag = m->delivery_tag;
      ev.multiple = m->multiple != 0;
      ev.ack = true;
      return ev;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* m = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kConfirm;
      ev.delivery_tag = m->delivery_tag;
      ev.multiple = m->multiple != 0;
      ev.ack = false;
      return ev;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      auto* m = static_cast<amqp_basic_return_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kReturned;
      ev.text = str(m->reply_code, " ", text(m->reply_text));
      ev.exchange = text(m->exchange);
      ev.routing_key = text(m->routing_key);
      amqp_message_t message;
      const amqp_rpc_reply_t mr = amqp_read_message(s_->conn, channel, &message, 0);
      if (mr.reply_type != AMQP_RESPONSE_NORMAL) {
        s_->alive = false;
        return fail("RabbitMQ ", peer_, ": connection lost while reading a returned message");
      }
      amqp_destroy_message(&message);
      return ev;
    }
    case AMQP_BASIC_CANCEL_METHOD: {
      auto* m = static_cast<amqp_basic_cancel_t*>(frame.payload.method.decoded);
      ev.kind = AmqpEvent::Kind::kConsumerCancelled;
      ev.consumer_tag = text(m->consumer_tag);
      if (!m->nowait) {
        amqp_basic_cancel_ok_t ok{};
        ok.consumer_tag = m->consumer_tag;
        amqp_send_method(s_->conn, channel, AMQP_BASIC_CANCEL_OK_METHOD, &ok);
      }
      return ev;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* m = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
      const std::string why = str(m->reply_code, " ", quoted(m->reply_text));
      amqp_channel_close_ok_t ok{};
      amqp_send_method(s_->conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (channel == kConsumeChannel) {
        s_->alive = false;  // every consumer is gone: start over on a new connection
        return fail("RabbitMQ ", peer_, " closed the consume channel: ", why);
      }
      NWG_RETURN_IF_ERROR(openChannel(channel));
      if (channel == kPublishChannel) {
        ev.kind = AmqpEvent::Kind::kPublishFailed;
        ev.text = str(m->reply_code, " ", text(m->reply_text));
      }
      return ev;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* m = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(s_->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      s_->alive = false;
      return fail("RabbitMQ ", peer_, " closed the connection: ", m->reply_code, " ", quoted(m->reply_text));
    }
    default:
      return ev;  // connection.blocked/unblocked and the like: nothing to do
  }
}

void AmqpConnection::releaseBuffers() {
  amqp_maybe_release_buffers(s_->conn);
}

void AmqpConnection::close() {
  if (!s_ || !s_->conn) return;
  // The socket stays armed: a fired interrupt ends the calls below at once.
  if (s_->alive) {
    // Do not let a silent broker hold up shutdown for the full RPC timeout.
    timeval tv = toTimeval(std::chrono::milliseconds(2000));
    amqp_set_rpc_timeout(s_->conn, &tv);
    amqp_channel_close(s_->conn, kDeclareChannel, AMQP_REPLY_SUCCESS);
    amqp_channel_close(s_->conn, kConsumeChannel, AMQP_REPLY_SUCCESS);
    amqp_channel_close(s_->conn, kPublishChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(s_->conn, AMQP_REPLY_SUCCESS);
    s_->alive = false;
  }
  s_->destroy();
}

}  // namespace nwg::rpc
