// UapiBackend: wireguard-go lifecycle (spawn, find, stop) plus UAPI get/set (see uapi_backend.h).
#include "wireguard/uapi/uapi_backend.h"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

#include "wireguard/interface_name.h"
#include "wireguard/uapi/uapi_codec.h"

namespace nwg::wg {
namespace {

uapi::WireguardGoProcesses::Options processOptions(const UapiBackendOptions& o) {
  uapi::WireguardGoProcesses::Options p;
  p.binary = o.wireguard_go;
  p.memory_limit = o.memory_limit;
  p.log_dir = o.log_dir;
  p.log_level = o.log_level;
  p.start_timeout = o.start_timeout;
  p.stop_timeout = o.stop_timeout;
  return p;
}

UapiBackendOptions withPathAndLimit(std::string path, std::string limit) {
  UapiBackendOptions o;
  o.wireguard_go = std::move(path);
  o.memory_limit = std::move(limit);
  return o;
}

Status removeStaleSocket(const std::string& path, const std::string& ifname) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::fromErrno(errno, str("device ", ifname, ": removing stale socket ", path));
  }
  return okStatus();
}

}  // namespace

UapiBackend::UapiBackend(UapiBackendOptions options)
    : options_(std::move(options)),
      client_(options_.socket_dir, options_.request_timeout, options_.max_reply),
      processes_(processOptions(options_)) {}

UapiBackend::UapiBackend(std::string wireguard_go_path, std::string memory_limit)
    : UapiBackend(withPathAndLimit(std::move(wireguard_go_path), std::move(memory_limit))) {}

bool UapiBackend::available(const std::string& wireguard_go_path) {
  return !wireguard_go_path.empty() && ::access(wireguard_go_path.c_str(), X_OK) == 0 &&
         ::access("/dev/net/tun", F_OK) == 0;
}

Status UapiBackend::create(const std::string& ifname, const CreateOptions& options) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ifname));
  if (!options_.memory_limit.empty() && !uapi::isValidMemoryLimit(options_.memory_limit)) {
    return Error(str("device ", ifname, ": invalid wireguard-go memory limit '", options_.memory_limit,
                     "' (want e.g. 512MiB, 1GiB, off or auto)"),
                 EINVAL);
  }
  // if_nametoindex asks the calling thread's namespace, where wireguard-go will create the tun.
  if (::if_nametoindex(ifname.c_str()) != 0) {
    return Error(str("device ", ifname, ": a network interface of that name already exists"), EEXIST);
  }
  const std::string path = client_.socketPath(ifname);
  NWG_ASSIGN_OR_RETURN(auto state, client_.probe(ifname));
  if (state == uapi::UapiClient::SocketState::kLive) {
    return Error(
        str("device ", ifname, ": already exists (", path, " answers; the link may be in another namespace)"),
        EEXIST);
  }
  if (state == uapi::UapiClient::SocketState::kStale) NWG_RETURN_IF_ERROR(removeStaleSocket(path, ifname));

  if (Status started = processes_.start(ifname, options.expected_peers); !started.ok()) {
    // A launcher that hung was killed, but it may have forked its daemon already. (After any other
    // failure, a daemon of that name belongs to someone else, e.g. a concurrent create: leave it.)
    if (started.error().code == ETIMEDOUT) static_cast<void>(destroy(DeviceRef{"", ifname}));
    return started;
  }
  // The launcher exits once the socket listens, but the daemon brings the device up (and binds its
  // random UDP port) a moment later. A listen_port set before that is only recorded, and fails
  // silently when the device comes up, instead of answering EADDRINUSE. So wait until a get shows
  // the port, which wireguard-go reports once the device is up.
  std::optional<Error> problem;
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (true) {
    auto reply = client_.exchange(ifname, uapi::encodeGetRequest());
    if (!reply) {
      problem = reply.error();
      break;
    }
    auto device = uapi::decodeGetReply(reply->get());
    if (!device) {
      problem = device.error();
      break;
    }
    if (device->listen_port) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      problem =
          Error(str("the device did not come up within ", options_.start_timeout.count(), " ms"), ETIMEDOUT);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (problem) {
    static_cast<void>(destroy(DeviceRef{"", ifname}));
    return Error(str("device ", ifname, ": wireguard-go started but does not answer: ", problem->message),
                 problem->code ? problem->code : EIO);
  }
  return okStatus();
}

Result<Device> UapiBackend::get(const DeviceRef& ref) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  // Decoded as it arrives: the text of a 10,000-peer device (~3 MB) is never held whole.
  struct Decoding : uapi::ReplySink {
    explicit Decoding(size_t expected) : decoder(expected) {}
    bool take(std::string_view bytes) override {
      decoder.feed(bytes);
      return decoder.complete();
    }
    uapi::GetReplyDecoder decoder;
  } reply(expectedPeers(ref.ifname));
  NWG_RETURN_IF_ERROR(client_.exchange(ref.ifname, uapi::encodeGetRequest(), reply));
  auto device = std::move(reply.decoder).finish();
  if (!device) return std::move(device).error().context(str("device ", ref.ifname, ": get"));
  if (device->private_key) device->public_key = publicKeyFor(ref.ifname, *device->private_key);
  rememberPeers(ref.ifname, device->peers.size());
  return device;
}

size_t UapiBackend::expectedPeers(const std::string& ifname) {
  std::lock_guard lock(remembered_mutex_);
  auto it = peer_counts_.find(ifname);
  return it == peer_counts_.end() ? 0 : it->second + it->second / 16 + 16;  // room for a few more
}

void UapiBackend::rememberPeers(const std::string& ifname, size_t count) {
  std::lock_guard lock(remembered_mutex_);
  if (!peer_counts_.count(ifname) && peer_counts_.size() >= kMaxRemembered) peer_counts_.clear();
  peer_counts_[ifname] = count;
}

Key UapiBackend::publicKeyFor(const std::string& ifname, const Key& private_key) {
  std::lock_guard lock(remembered_mutex_);
  auto it = public_keys_.find(ifname);
  if (it != public_keys_.end() && it->second.first == private_key) return it->second.second;  // constant time
  if (it == public_keys_.end() && public_keys_.size() >= kMaxRemembered) public_keys_.clear();
  Key derived = publicKeyOf(private_key);
  public_keys_.insert_or_assign(ifname, std::make_pair(private_key, derived));
  return derived;
}

Status UapiBackend::set(const DeviceRef& ref, const Device& update) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  const SecretString request(uapi::encodeSetRequest(update));
  NWG_ASSIGN_OR_RETURN(SecretString reply, client_.exchange(ref.ifname, request.view()));
  Status status = uapi::decodeSetReply(reply.get());
  if (status.ok()) return status;
  Error error = std::move(status).error();
  if (error.code == EADDRINUSE && update.listen_port) {
    return Error(str("device ", ref.ifname, ": set: listen port ", *update.listen_port,
                     " is already in use (EADDRINUSE); wireguard-go now has no UDP socket until a listen "
                     "port is set successfully"),
                 EADDRINUSE);
  }
  return Error(str("device ", ref.ifname, ": set: ", error.message,
                   update.peers.empty() ? "" : " (peers before the rejected line may have been applied)"),
               error.code);
}

Status UapiBackend::destroy(const DeviceRef& ref) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  {
    std::lock_guard lock(remembered_mutex_);
    public_keys_.erase(ref.ifname);  // a device of that name made later has another key
    peer_counts_.erase(ref.ifname);
  }
  const std::string path = client_.socketPath(ref.ifname);
  std::vector<pid_t> pids = processes_.findServing(ref.ifname);
  if (pids.empty()) {
    NWG_ASSIGN_OR_RETURN(auto state, client_.probe(ref.ifname));
    if (state == uapi::UapiClient::SocketState::kAbsent) return okStatus();
    if (state == uapi::UapiClient::SocketState::kStale) return removeStaleSocket(path, ref.ifname);
    // Live, yet no process named like our binary holds the tun: look at every process.
    pids = processes_.findServing(ref.ifname, /*only_named=*/false);
  }
  for (pid_t pid : pids) NWG_RETURN_IF_ERROR(processes_.stop(pid, ref.ifname));
  NWG_ASSIGN_OR_RETURN(auto state, client_.probe(ref.ifname));
  if (state != uapi::UapiClient::SocketState::kAbsent) {
    // Killed (stale socket), or a daemon we cannot see through /proc: wireguard-go watches its socket
    // with inotify and exits when it is removed.
    NWG_RETURN_IF_ERROR(removeStaleSocket(path, ref.ifname));
  }
  return okStatus();
}

}  // namespace nwg::wg
