#include "daemon/allocator.h"

#include <malloc.h>

namespace nwg::daemon {

namespace {
constexpr int kArenas = 1;
constexpr int kMmapThreshold = 128 * 1024;  // glibc's initial value; setting it stops it growing
}  // namespace

void tuneAllocator() {
  (void)mallopt(M_ARENA_MAX, kArenas);
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
}

}  // namespace nwg::daemon
