// The C library's allocator, set for a long-running daemon whose memory should follow its hubs.
#pragma once

namespace nwg::daemon {

// One malloc arena for all threads, and large blocks (a device's UAPI text, a get_hubs page: MBs
// at 10,000 spokes) from mmap, given back when freed. Measured with a 10,000-peer hub (docs/scale.md):
// RSS 48 MB with glibc's defaults (an arena per thread, each keeping what a pass or a reading freed),
// 26 MB with these. The agent's threads allocate little at the same time, so one arena costs no
// waiting worth the name. Call first thing in main, before any thread starts. Best effort: under a
// sanitizer's allocator (test builds) mallopt does nothing, and that is fine.
void tuneAllocator();

}  // namespace nwg::daemon
