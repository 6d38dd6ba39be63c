// Kernel WireGuard over generic netlink (see genl_backend.h).
#include "wireguard/genl/genl_backend.h"

#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/secret.h"
#include "wireguard/genl/genl_family.h"
#include "wireguard/interface_name.h"

namespace nwg::wg {

namespace {

std::string where(const DeviceRef& ref) {
  return str("device ", ref.ifname, " in namespace ", ref.netns.empty() ? "(own)" : ref.netns);
}

Error withContext(Error e, const std::string& prefix) {
  return std::move(e).context(prefix);
}

// A missing namespace, a missing link and a link that is not WireGuard all mean "no such WireGuard
// device" to callers (ENODEV), with the real cause kept in the message.
Error asNoDevice(Error e) {
  if (e.code == ENOENT || e.code == EOPNOTSUPP) e.code = ENODEV;
  return e;
}

}  // namespace

bool GenlBackend::available() {
  auto socket = netlink::NetlinkSocket::open(NETLINK_GENERIC);
  return socket.ok() && genl::resolveFamily(*socket, WG_GENL_NAME).ok();
}

GenlBackend::GenlBackend(const LinuxNamespaces& namespaces, Links& links, size_t set_limit)
    : sockets_(
          namespaces,
          [&namespaces](LinuxNamespaces::Pinned& ns) -> Result<netlink::NetlinkSocket> {
            NWG_ASSIGN_OR_RETURN(UniqueFd fd,
                                 namespaces.openSocket(ns, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC));
            return netlink::NetlinkSocket::adopt(std::move(fd));
          },
          [](const netlink::NetlinkSocket& socket) { return socket.broken(); }),
      links_(links),
      set_limit_(set_limit) {}

Result<uint16_t> GenlBackend::family(netlink::NetlinkSocket& socket) {
  std::lock_guard lock(mutex_);
  if (!family_) {
    NWG_ASSIGN_OR_RETURN(uint16_t id, genl::resolveFamily(socket, WG_GENL_NAME));
    family_ = id;
  }
  return *family_;
}

Status GenlBackend::create(const std::string& ifname, const CreateOptions& /*options*/) {
  const std::string ctx = str("device ", ifname);
  NWG_RETURN_IF_ERROR(validateInterfaceName(ifname));
  NWG_RETURN_IF_ERROR(links_.create("", ifname, "wireguard"));
  Status up = links_.setUp("", ifname, true);
  if (!up.ok()) {
    (void)links_.remove("", ifname);  // do not leave a half-made device behind
    return withContext(std::move(up).error(), ctx);
  }
  return okStatus();
}

Result<Device> GenlBackend::get(const DeviceRef& ref) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  bool reached = false;  // false: the namespace's socket could not be opened
  auto device = sockets_.with(ref.netns, [&](netlink::NetlinkSocket& socket) -> Result<Device> {
    reached = true;
    NWG_ASSIGN_OR_RETURN(uint16_t id, family(socket));
    auto replies = socket.dump(genl::getDeviceRequest(id, ref.ifname));
    if (!replies.ok()) return asNoDevice(std::move(replies).error());
    struct WipeReplies {  // the dump carries the private key
      std::vector<std::vector<uint8_t>>& r;
      ~WipeReplies() {
        for (auto& bytes : r) secureWipe(bytes);
      }
    } wipe{*replies};
    genl::DeviceDumpDecoder decoder(id);
    for (const auto& bytes : *replies) {
      NWG_ASSIGN_OR_RETURN(auto message, netlink::messageOf(bytes));
      NWG_RETURN_IF_ERROR(decoder.add(message));
    }
    return std::move(decoder).finish();
  });
  if (device.ok()) return device;
  Error e = std::move(device).error();
  return withContext(reached ? std::move(e) : asNoDevice(std::move(e)), where(ref));
}

Status GenlBackend::set(const DeviceRef& ref, const Device& update) {
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  bool reached = false;
  // Retrying on a fresh socket is safe: an update applied twice is the same update.
  Status applied = sockets_.with(ref.netns, [&](netlink::NetlinkSocket& socket) -> Status {
    reached = true;
    NWG_ASSIGN_OR_RETURN(uint16_t id, family(socket));
    NWG_ASSIGN_OR_RETURN(auto messages, genl::setDeviceRequests(id, ref.ifname, update, set_limit_));
    struct WipeMessages {  // those not sent yet, after a failure (sent ones are wiped by the socket)
      std::vector<std::vector<uint8_t>>& m;
      ~WipeMessages() {
        for (auto& bytes : m) secureWipe(bytes);
      }
    } wipe{messages};
    // One message at a time, each acknowledged before the next: a failure leaves a prefix applied.
    for (size_t i = 0; i < messages.size(); ++i) {
      Status sent = socket.request(std::move(messages[i]));
      if (!sent.ok()) {
        return withContext(asNoDevice(std::move(sent).error()),
                           str("set (message ", i + 1, " of ", messages.size(), ")"));
      }
    }
    return okStatus();
  });
  if (applied.ok()) return applied;
  Error e = std::move(applied).error();
  return withContext(reached ? std::move(e) : asNoDevice(std::move(e)), where(ref));
}

Status GenlBackend::destroy(const DeviceRef& ref) {
  const std::string ctx = where(ref);
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  auto link = links_.get(ref.netns, ref.ifname);
  if (!link.ok()) {
    if (link.error().code == ENODEV || link.error().code == ENOENT) return okStatus();
    return withContext(std::move(link).error(), ctx);
  }
  if (link->kind != "wireguard") {
    return Error(
        str(ctx, ": is a ", link->kind.empty() ? "plain" : link->kind, " link, not WireGuard; left alone"),
        EOPNOTSUPP);
  }
  return links_.remove(ref.netns, ref.ifname);
}

}  // namespace nwg::wg
