// AmqpConnection over rabbitmq-c 0.11. Reads use amqp_consume_message() with a zero timeout: a frame that
// is not a delivery is put back by the library and read here with amqp_simple_wait_frame_noblock(), which
// is how confirms (basic.ack/nack), returns, cancels and channel/connection closes are seen. Each such call
// into the library also sends a heartbeat when one is due and detects a silent broker.
#include "rpc/amqp_connection.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <variant>
#include <vector>

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
  bool alive = false;
  ~State() {
    if (conn) amqp_destroy_connection(conn);
  }
};

AmqpConnection::AmqpConnection(std::unique_ptr<State> state) : s_(std::move(state)) {}

AmqpConnection::~AmqpConnection() {
  close();
}

Result<std::unique_ptr<AmqpConnection>> AmqpConnection::open(const AmqpConnectOptions& o) {
  const bool v6 = o.host.find(':') != std::string::npos;
  const std::string peer = str(v6 ? "[" : "", o.host, v6 ? "]" : "", ":", o.port);
  auto state = std::make_unique<State>();
  state->conn = amqp_new_connection();
  if (!state->conn) return fail("RabbitMQ ", peer, ": out of memory");

  amqp_socket_t* socket = nullptr;
  if (o.rabbit.ssl) {
    socket = amqp_ssl_socket_new(state->conn);
    if (!socket) return fail("RabbitMQ ", peer, ": cannot create a TLS socket");
    const bool verify = !o.rabbit.ssl_ca_file.empty();
    amqp_ssl_socket_set_verify_peer(socket, verify ? 1 : 0);
    amqp_ssl_socket_set_verify_hostname(socket, verify && o.rabbit.ssl_enforce_hostname_verification ? 1 : 0);
    if (verify && amqp_ssl_socket_set_cacert(socket, o.rabbit.ssl_ca_file.c_str()) != AMQP_STATUS_OK) {
      return fail("RabbitMQ ", peer, ": cannot load ssl_ca_file ", o.rabbit.ssl_ca_file);
    }
    if (!o.rabbit.ssl_cert_file.empty() &&
        amqp_ssl_socket_set_key(socket, o.rabbit.ssl_cert_file.c_str(), o.rabbit.ssl_key_file.c_str()) !=
            AMQP_STATUS_OK) {
      return fail("RabbitMQ ", peer, ": cannot load ssl_cert_file ", o.rabbit.ssl_cert_file,
                  " / ssl_key_file ", o.rabbit.ssl_key_file);
    }
    if (amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
      return fail("RabbitMQ ", peer, ": cannot restrict TLS to version 1.2 or later");
    }
  } else {
    socket = amqp_tcp_socket_new(state->conn);
    if (!socket) return fail("RabbitMQ ", peer, ": cannot create a socket");
  }

  timeval connect_tv = toTimeval(o.connect_timeout);
  int rc = amqp_socket_open_noblock(socket, o.host.c_str(), o.port, &connect_tv);
  if (rc != AMQP_STATUS_OK) return fail("cannot connect to RabbitMQ ", peer, ": ", libraryError(rc));
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
      why = str(m->reply_code, " ", text(m->reply_text));
    } else {
      why = "unexpected answer";
    }
    return fail("cannot log in to RabbitMQ ", peer, " as '", o.username, "' (vhost '", o.vhost, "'): ", why);
  }
  state->alive = true;

  std::unique_ptr<AmqpConnection> c(new AmqpConnection(std::move(state)));
  c->peer_ = peer;
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
    const std::string why = str(m->reply_code, " ", text(m->reply_text));
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
                text(m->reply_text));
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
    ev.body = text(env.message.body);
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
      const std::string why = str(m->reply_code, " ", text(m->reply_text));
      amqp_channel_close_ok_t ok{};
      amqp_send_method(s_->conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      if (channel == kConsumeChannel) {
        s_->alive = false;  // every consumer is gone: start over on a new connection
        return fail("RabbitMQ ", peer_, " closed the consume channel: ", why);
      }
      NWG_RETURN_IF_ERROR(openChannel(channel));
      if (channel == kPublishChannel) {
        ev.kind = AmqpEvent::Kind::kPublishFailed;
        ev.text = why;
      }
      return ev;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* m = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(s_->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      s_->alive = false;
      return fail("RabbitMQ ", peer_, " closed the connection: ", m->reply_code, " ", text(m->reply_text));
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
  amqp_destroy_connection(s_->conn);
  s_->conn = nullptr;
}

}  // namespace nwg::rpc
