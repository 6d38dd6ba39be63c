#include "reconcile/observation.h"

namespace nwg::reconcile {

const DeviceObservation* HostObservation::findDevice(const std::string& ifname,
                                                     const std::string& prefer_netns) const {
  const DeviceObservation* found = nullptr;
  for (const auto& d : devices) {
    if (d.link.name != ifname) continue;
    if (d.netns == prefer_netns) return &d;
    if (!found) found = &d;
  }
  return found;
}

}  // namespace nwg::reconcile
