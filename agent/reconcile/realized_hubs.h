// What the reconciler has realized, as it hands it to readers on other threads (the peer monitor:
// spoke liveness and per-peer metrics): each hub's device, its Neutron identities and its spokes.
// Published as an immutable snapshot after every pass; a hub whose spec and place did not change
// keeps its entry (the same pointer), so publishing costs a few pointer copies per pass.
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/ip.h"
#include "keys/key.h"
#include "wireguard/backend.h"

namespace nwg::reconcile {

struct SpokeSpec;

struct RealizedSpoke {
  std::string port_id;
  Key public_key;
  std::vector<IpPrefix> allowed_ips;
};

// A hub's spokes ordered by port ID, immutable, kept in chunks of about kChunk spokes that successive
// versions share: one spoke changed on a hub of 10,000 makes a version that copies one chunk and the
// chunk pointers (docs/scale.md), not 10,000 spokes. Reads are by index or by iteration.
class RealizedSpokes {
 public:
  static constexpr size_t kChunk = 128;
  using Chunk = std::vector<RealizedSpoke>;

  RealizedSpokes() = default;
  // Every spoke of `sorted` (ordered by port ID), in fresh chunks.
  static RealizedSpokes from(const std::vector<SpokeSpec>& sorted);
  static RealizedSpokes from(std::vector<RealizedSpoke> sorted);
  // The spokes of `sorted` (the hub's whole spoke list now), sharing with this version every chunk
  // that holds none of `changed` (the port IDs added, updated or removed since this version).
  RealizedSpokes with(const std::vector<SpokeSpec>& sorted, const std::set<std::string>& changed) const;

  size_t size() const { return offsets_.empty() ? 0 : offsets_.back(); }
  bool empty() const { return size() == 0; }
  const RealizedSpoke& operator[](size_t i) const;

  class const_iterator {
   public:
    using value_type = RealizedSpoke;
    using reference = const RealizedSpoke&;
    using pointer = const RealizedSpoke*;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    const_iterator() = default;
    reference operator*() const { return (*(*chunks_)[chunk_])[pos_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++();
    const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    bool operator==(const const_iterator& o) const { return chunk_ == o.chunk_ && pos_ == o.pos_; }

   private:
    friend class RealizedSpokes;
    const_iterator(const std::vector<std::shared_ptr<const Chunk>>* chunks, size_t chunk, size_t pos)
        : chunks_(chunks), chunk_(chunk), pos_(pos) {}
    const std::vector<std::shared_ptr<const Chunk>>* chunks_ = nullptr;
    size_t chunk_ = 0;
    size_t pos_ = 0;
  };
  const_iterator begin() const { return {&chunks_, 0, 0}; }
  const_iterator end() const { return {&chunks_, chunks_.size(), 0}; }

  // How many chunks this version shares with `other` (tests and benchmarks: what a change copied).
  size_t sharedChunks(const RealizedSpokes& other) const;
  size_t chunkCount() const { return chunks_.size(); }

 private:
  void push(std::shared_ptr<const Chunk> chunk);
  void pushSlice(std::vector<SpokeSpec>::const_iterator first, std::vector<SpokeSpec>::const_iterator last);

  std::vector<std::shared_ptr<const Chunk>> chunks_;  // never an empty chunk
  std::vector<size_t> offsets_;                       // offsets_[k]: spokes before chunk k; back(): size
};

struct RealizedHub {
  std::string port_id;
  std::string project_id;
  std::string network_id;
  wg::DeviceRef device;   // where the pass left it
  RealizedSpokes spokes;  // ordered by port ID
  std::string digest;     // the server's digest of the spec this entry was made from
};

using RealizedHubs = std::vector<std::shared_ptr<const RealizedHub>>;  // ordered by hub port ID

}  // namespace nwg::reconcile
