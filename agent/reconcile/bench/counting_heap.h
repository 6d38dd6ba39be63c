// The C++ heap of a benchmark process, counted: bytes live through operator new now and at their
// peak since the last reset. Linked into a benchmark, counting_heap.cpp replaces the global operator
// new and delete, so the peak of one pass (an agent's transient memory, which RSS sampling misses)
// can be read exactly. Allocations made inside a NotCounted scope (a stand-in server building its
// answers) are left out, their release included.
#pragma once

#include <cstddef>

namespace nwg::reconcile::bench::heap {

size_t live();
size_t peak();
void resetPeak();  // the peak starts again from what is live now

class NotCounted {
 public:
  NotCounted();
  ~NotCounted();
  NotCounted(const NotCounted&) = delete;
  NotCounted& operator=(const NotCounted&) = delete;

 private:
  bool was_;
};

}  // namespace nwg::reconcile::bench::heap
