// The interface every WireGuard transport implements: GenlBackend (kernel WireGuard over generic
// netlink), UapiBackend (wireguard-go over its UAPI socket) and FakeBackend (unit tests). One contract
// test suite runs against all three.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "wireguard/device.h"

namespace nwg::wg {

// Where a device is now: a named network namespace ("" = the agent's own) and its interface name.
// The name never changes: wireguard-go's UAPI socket keeps the name the device was created with.
struct DeviceRef {
  std::string netns;
  std::string ifname;
  bool operator==(const DeviceRef&) const = default;
};

// What a backend may want to know about a device it creates.
struct CreateOptions {
  // How many peers the device will have right away (its hub's spokes): wireguard-go sizes its memory
  // limit by it (UapiBackend, memory limit "auto").
  size_t expected_peers = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "kernel", "userspace" or "fake": reported in the agent's heartbeat.
  virtual std::string_view kind() const = 0;

  // Creates a device named `ifname` in the agent's own namespace, where its UDP socket will stay for
  // the device's whole life (moving the link later moves only the clear-text side). The device has no
  // key and no peers. Fails with EEXIST if a device of that name exists.
  virtual Status create(const std::string& ifname, const CreateOptions& options) = 0;

  // Reads the full configuration. Fails with code ENODEV if there is no such WireGuard device.
  virtual Result<Device> get(const DeviceRef& device) = 0;

  // Applies an update: only what it names changes (see device.h). Large updates may be split over
  // several transport messages; an error means some prefix of the update may have been applied, so
  // callers re-read before retrying.
  virtual Status set(const DeviceRef& device, const Device& update) = 0;

  // Removes the device wherever it is and whatever state its transport is in (including a stale
  // wireguard-go socket); an absent device is success.
  virtual Status destroy(const DeviceRef& device) = 0;
};

}  // namespace nwg::wg
