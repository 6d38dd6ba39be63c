#include "reconcile/realized_hubs.h"

#include <algorithm>

#include "reconcile/hub_spec.h"

namespace nwg::reconcile {

namespace {

RealizedSpoke realized(const SpokeSpec& spoke) { return {spoke.port_id, spoke.public_key, spoke.allowed_ips}; }

bool beforeId(const SpokeSpec& spoke, const std::string& id) { return spoke.port_id < id; }

}  // namespace

void RealizedSpokes::push(std::shared_ptr<const Chunk> chunk) {
  if (offsets_.empty()) offsets_.push_back(0);
  offsets_.push_back(offsets_.back() + chunk->size());
  chunks_.push_back(std::move(chunk));
}

// [first, last) in chunks of kChunk (a slice that grew past two chunks is split; an empty one adds none).
void RealizedSpokes::pushSlice(std::vector<SpokeSpec>::const_iterator first,
                               std::vector<SpokeSpec>::const_iterator last) {
  const size_t n = static_cast<size_t>(last - first);
  const size_t pieces = n <= 2 * kChunk ? (n ? 1 : 0) : (n + kChunk - 1) / kChunk;
  for (size_t p = 0; p < pieces; ++p) {
    auto begin = first + static_cast<std::ptrdiff_t>(p * n / pieces);
    auto end = first + static_cast<std::ptrdiff_t>((p + 1) * n / pieces);
    auto chunk = std::make_shared<Chunk>();
    chunk->reserve(static_cast<size_t>(end - begin));
    for (auto it = begin; it != end; ++it) chunk->push_back(realized(*it));
    push(std::move(chunk));
  }
}

RealizedSpokes RealizedSpokes::from(const std::vector<SpokeSpec>& sorted) {
  RealizedSpokes out;
  out.chunks_.reserve(sorted.size() / kChunk + 1);
  for (size_t i = 0; i < sorted.size(); i += kChunk) {
    auto first = sorted.begin() + static_cast<std::ptrdiff_t>(i);
    out.pushSlice(first, first + static_cast<std::ptrdiff_t>(std::min(kChunk, sorted.size() - i)));
  }
  return out;
}

RealizedSpokes RealizedSpokes::from(std::vector<RealizedSpoke> sorted) {
  RealizedSpokes out;
  for (size_t i = 0; i < sorted.size(); i += kChunk) {
    auto chunk = std::make_shared<Chunk>();
    const size_t end = std::min(sorted.size(), i + kChunk);
    for (size_t j = i; j < end; ++j) chunk->push_back(std::move(sorted[j]));
    out.push(std::move(chunk));
  }
  return out;
}

// Chunk k holds the port IDs in [first ID of chunk k, first ID of chunk k+1) (chunk 0 from the
// lowest): a changed ID makes exactly its range's chunk be rebuilt from `sorted`; the other chunks
// hold what `sorted` holds in their ranges, since none of those spokes changed.
RealizedSpokes RealizedSpokes::with(const std::vector<SpokeSpec>& sorted, const std::set<std::string>& changed) const {
  if (chunks_.empty()) return from(sorted);
  std::vector<bool> dirty(chunks_.size(), false);
  auto chunkOf = [&](const std::string& id) {
    size_t lo = 1, hi = chunks_.size();  // the first chunk whose first ID is above id, minus one
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (id < chunks_[mid]->front().port_id) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  };
  for (const auto& id : changed) dirty[chunkOf(id)] = true;
  RealizedSpokes out;
  out.chunks_.reserve(chunks_.size() + 1);
  out.offsets_.reserve(chunks_.size() + 2);
  for (size_t k = 0; k < chunks_.size(); ++k) {
    if (!dirty[k]) {
      out.push(chunks_[k]);
      continue;
    }
    auto first = k == 0 ? sorted.begin()
                        : std::lower_bound(sorted.begin(), sorted.end(), chunks_[k]->front().port_id, beforeId);
    auto last = k + 1 == chunks_.size()
                    ? sorted.end()
                    : std::lower_bound(first, sorted.end(), chunks_[k + 1]->front().port_id, beforeId);
    out.pushSlice(first, last);
  }
  return out;
}

const RealizedSpoke& RealizedSpokes::operator[](size_t i) const {
  // The chunk whose offset is the last one not above i.
  auto it = std::upper_bound(offsets_.begin(), offsets_.end() - 1, i);
  const size_t k = static_cast<size_t>(it - offsets_.begin()) - 1;
  return (*chunks_[k])[i - offsets_[k]];
}

RealizedSpokes::const_iterator& RealizedSpokes::const_iterator::operator++() {
  if (++pos_ == (*chunks_)[chunk_]->size()) {
    ++chunk_;
    pos_ = 0;
  }
  return *this;
}

size_t RealizedSpokes::sharedChunks(const RealizedSpokes& other) const {
  std::set<const Chunk*> theirs;
  for (const auto& c : other.chunks_) theirs.insert(c.get());
  return static_cast<size_t>(
      std::count_if(chunks_.begin(), chunks_.end(), [&](const auto& c) { return theirs.count(c.get()) > 0; }));
}

}  // namespace nwg::reconcile
