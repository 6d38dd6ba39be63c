// Kernel WireGuard over generic netlink (see genl_backend.h).
#include "wireguard/genl/genl_backend.h"

#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <sys/socket.h>

#include <cerrno>

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

Result<netlink::NetlinkSocket> GenlBackend::socketIn(const std::string& netns) {
  NWG_ASSIGN_OR_RETURN(UniqueFd fd, namespaces_.openSocket(netns, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC));
  return netlink::NetlinkSocket::adopt(std::move(fd));
}

Result<uint16_t> GenlBackend::family(netlink::NetlinkSocket& socket) {
  std::lock_guard lock(mutex_);
  if (!family_) {
    NWG_ASSIGN_OR_RETURN(uint16_t id, genl::resolveFamily(socket, WG_GENL_NAME));
    family_ = id;
  }
  return *family_;
}

Status GenlBackend::create(const std::string& ifname) {
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
  const std::string ctx = where(ref);
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  auto socket = socketIn(ref.netns);
  if (!socket.ok()) return withContext(asNoDevice(std::move(socket).error()), ctx);
  NWG_ASSIGN_OR_RETURN(uint16_t id, family(*socket));
  auto replies = socket->dump(genl::getDeviceRequest(id, ref.ifname));
  if (!replies.ok()) return withContext(asNoDevice(std::move(replies).error()), ctx);
  genl::DeviceDumpDecoder decoder(id);
  for (const auto& bytes : *replies) {
    auto message = netlink::messageOf(bytes);
    if (!message.ok()) return withContext(std::move(message).error(), ctx);
    Status added = decoder.add(*message);
    if (!added.ok()) return withContext(std::move(added).error(), ctx);
  }
  auto device = std::move(decoder).finish();
  if (!device.ok()) return withContext(std::move(device).error(), ctx);
  return device;
}

Status GenlBackend::set(const DeviceRef& ref, const Device& update) {
  const std::string ctx = where(ref);
  NWG_RETURN_IF_ERROR(validateInterfaceName(ref.ifname));
  auto socket = socketIn(ref.netns);
  if (!socket.ok()) return withContext(asNoDevice(std::move(socket).error()), ctx);
  NWG_ASSIGN_OR_RETURN(uint16_t id, family(*socket));
  auto messages = genl::setDeviceRequests(id, ref.ifname, update, set_limit_);
  if (!messages.ok()) return withContext(std::move(messages).error(), ctx);
  // One message at a time, each acknowledged before the next: a failure leaves a prefix applied.
  for (size_t i = 0; i < messages->size(); ++i) {
    Status sent = socket->request(std::move((*messages)[i]));
    if (!sent.ok()) {
      return withContext(asNoDevice(std::move(sent).error()),
                         str(ctx, ": set (message ", i + 1, " of ", messages->size(), ")"));
    }
  }
  return okStatus();
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
