// DocumentReassembly: puts one document back together from its
// DocumentFragments (link_control_messages.h), one reassembly per link and
// document kind.
//
//   empty ──first fragment──> collecting ──last missing fragment──> complete (bytes out)
//                               │  └─ fragment of another (version, total): restart with it
//                               └─ no fragment for kReassemblyTimeout: Expire() empties it
//
// Memory is bounded by kMaxDocumentSize (the decoder refuses larger totals)
// and fragments can only land on kFragmentDataSize boundaries, so a bitmap of
// received fragments is the whole bookkeeping. Duplicates are ignored.
//
// Thread use: a value owned by one DocumentFlood on the control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/time.h"
#include "mesh/constants.h"
#include "mesh/link_control_messages.h"

namespace plexus::mesh {

class DocumentReassembly {
 public:
  // Adds a fragment (already checked by DecodePayload). Returns the whole
  // document when this fragment completed it, and resets.
  std::optional<Bytes> Add(const DocumentFragment& fragment, Timestamp now);

  // Drops a reassembly that has not progressed for kReassemblyTimeout.
  void Expire(Timestamp now);
  // When Expire would drop the current reassembly; Infinite when idle.
  Timestamp Deadline() const;

  bool active() const { return !received_.empty(); }
  uint64_t version() const { return version_; }

 private:
  void Restart(const DocumentFragment& fragment);

  uint64_t version_ = 0;
  uint32_t total_ = 0;
  Bytes buffer_;
  std::vector<bool> received_;
  size_t missing_ = 0;
  Timestamp last_progress_;
};

}  // namespace plexus::mesh
