#include "mesh/document_reassembly.h"

#include <algorithm>

namespace plexus::mesh {

std::optional<Bytes> DocumentReassembly::Add(const DocumentFragment& fragment, Timestamp now) {
  // DecodePayload already checked these; a hand-made fragment must not write out of bounds.
  if (fragment.total == 0 || fragment.total > kMaxDocumentSize ||
      fragment.offset >= fragment.total ||
      fragment.data.size() > fragment.total - fragment.offset) {
    return std::nullopt;
  }
  if (!active() || fragment.version != version_ || fragment.total != total_) Restart(fragment);
  size_t index = fragment.offset / kFragmentDataSize;
  if (index >= received_.size() || received_[index]) return std::nullopt;
  std::copy(fragment.data.begin(), fragment.data.end(), buffer_.begin() + fragment.offset);
  received_[index] = true;
  last_progress_ = now;
  if (--missing_ > 0) return std::nullopt;
  Bytes done = std::move(buffer_);
  *this = DocumentReassembly();
  return done;
}

void DocumentReassembly::Restart(const DocumentFragment& fragment) {
  version_ = fragment.version;
  total_ = fragment.total;
  buffer_.assign(total_, std::byte{0});
  size_t count = (total_ + kFragmentDataSize - 1) / kFragmentDataSize;
  received_.assign(count, false);
  missing_ = count;
}

void DocumentReassembly::Expire(Timestamp now) {
  if (active() && now >= Deadline()) *this = DocumentReassembly();
}

Timestamp DocumentReassembly::Deadline() const {
  return active() ? last_progress_ + kReassemblyTimeout : Timestamp::Infinite();
}

}  // namespace plexus::mesh
