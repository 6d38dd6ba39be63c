// Global operator new and delete with a 16-byte header recording the size and whether it was counted
// (counting_heap.h). Benchmarks only: the agent itself uses glibc's allocator as it is.
#include "reconcile/bench/counting_heap.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace nwg::reconcile::bench::heap {
namespace {

std::atomic<size_t> g_live{0};
std::atomic<size_t> g_peak{0};
thread_local bool t_paused = false;

struct alignas(16) Header {
  size_t size;
  bool counted;
};
static_assert(sizeof(Header) == 16);

void* allocate(size_t n) {
  void* block = std::malloc(n + sizeof(Header));
  if (!block) return nullptr;
  auto* h = static_cast<Header*>(block);
  h->size = n;
  h->counted = !t_paused;
  if (h->counted) {
    const size_t now = g_live.fetch_add(n, std::memory_order_relaxed) + n;
    size_t seen = g_peak.load(std::memory_order_relaxed);
    while (now > seen && !g_peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
  return h + 1;
}

void release(void* p) noexcept {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  if (h->counted) g_live.fetch_sub(h->size, std::memory_order_relaxed);
  std::free(h);
}

}  // namespace

size_t live() {
  return g_live.load();
}
size_t peak() {
  return g_peak.load();
}
void resetPeak() {
  g_peak.store(g_live.load());
}

NotCounted::NotCounted() : was_(t_paused) {
  t_paused = true;
}
NotCounted::~NotCounted() {
  t_paused = was_;
}

}  // namespace nwg::reconcile::bench::heap

void* operator new(std::size_t n) {
  if (void* p = nwg::reconcile::bench::heap::allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return nwg::reconcile::bench::heap::allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return nwg::reconcile::bench::heap::allocate(n);
}
void operator delete(void* p) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
void operator delete[](void* p) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  nwg::reconcile::bench::heap::release(p);
}
