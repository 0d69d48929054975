// SeqnoStore: the Babel seqno of the node's own routes, kept across restarts
// (RFC 8966 §3.2.1 wants it to only move forward). The router-id is derived
// from the node's key, so it survives a restart; a restarted node starting
// from a random seqno would, half of the time, announce routes older than
// what its neighbours remember, which they must refuse as unfeasible until
// their source entries are collected (3 minutes).
//
//   Start(): saved + kRestartJump (random if nothing saved), saved at once
//   Follow(current): saved again once current is kSaveEvery past the save
//
// Since a run never gets kSaveEvery past its last save without saving, and
// the next run starts kRestartJump (> kSaveEvery) past it, a restarted node's
// first seqno is always newer than any it announced before, crash or not.
// The file holds one line, "seqno N", replaced atomically (write + rename).
//
// Threading: the node's control thread.
#pragma once

#include <cstdint>
#include <string>

#include "babel/seqno.h"
#include "base/random.h"
#include "base/result.h"

namespace plexus::node {

class SeqnoStore {
 public:
  static constexpr uint16_t kRestartJump = 256;
  static constexpr uint16_t kSaveEvery = 128;

  // An empty path keeps nothing: every start is random.
  explicit SeqnoStore(std::string path) : path_(std::move(path)) {}

  // The seqno to start from. Problems with the file are logged once and
  // fall back to a random seqno; they never stop the node.
  babel::Seqno Start(Random& random);
  void Follow(babel::Seqno current);

  const std::string& path() const { return path_; }

 private:
  Result<babel::Seqno> Load() const;
  Status Save(babel::Seqno seqno);

  std::string path_;
  babel::Seqno saved_;
  bool saving_ = false;  // the file is usable
};

}  // namespace plexus::node
