#include "reconcile/observation.h"

namespace nwg::reconcile {

namespace {

const DeviceObservation* findIn(const std::vector<DeviceObservation>& links, const std::string& ifname,
                                const std::string& prefer_netns) {
  const DeviceObservation* found = nullptr;
  for (const auto& d : links) {
    if (d.link.name != ifname) continue;
    if (d.netns == prefer_netns) return &d;
    if (!found) found = &d;
  }
  return found;
}

}  // namespace

const DeviceObservation* HostObservation::findDevice(const std::string& ifname,
                                                     const std::string& prefer_netns) const {
  return findIn(devices, ifname, prefer_netns);
}

const DeviceObservation* HostObservation::findPlugLink(const std::string& ifname,
                                                       const std::string& prefer_netns) const {
  return findIn(plug_links, ifname, prefer_netns);
}

}  // namespace nwg::reconcile
