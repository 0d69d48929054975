#include "node/seqno_store.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace plexus::node {

Result<babel::Seqno> SeqnoStore::Load() const {
  std::ifstream in(path_);
  if (!in) return MakeError("cannot read {}: {}", path_, std::strerror(errno));
  std::string word, number;
  in >> word >> number;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (word != "seqno" || ec != std::errc() || end != number.data() + number.size() ||
      value > 0xFFFF) {
    return MakeError("{}: expected \"seqno N\" with N in 0..65535", path_);
  }
  return babel::Seqno(static_cast<uint16_t>(value));
}

Status SeqnoStore::Save(babel::Seqno seqno) {
  const std::string temporary = path_ + ".tmp";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "seqno " << seqno.value() << "\n";
    out.flush();
    if (!out) return MakeError("cannot write {}: {}", temporary, std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), path_.c_str()) != 0) {
    return MakeError("cannot rename {} to {}: {}", temporary, path_, std::strerror(errno));
  }
  saved_ = seqno;
  return Ok();
}

babel::Seqno SeqnoStore::Start(Random& random) {
  const babel::Seqno fresh(static_cast<uint16_t>(random.NextU32()));
  if (path_.empty()) return fresh;
  babel::Seqno start = fresh;
  if (std::filesystem::exists(path_)) {
    Result<babel::Seqno> loaded = Load();
    if (loaded) {
      start = babel::Seqno(static_cast<uint16_t>(loaded->value() + kRestartJump));
    } else {
      PLEXUS_LOG_WARNING("babel seqno: {}; starting from a random seqno", loaded.error().message());
    }
  }
  Status saved = Save(start);
  saving_ = static_cast<bool>(saved);
  if (!saved) {
    PLEXUS_LOG_WARNING(
        "babel seqno: {}; a restart may leave this node's routes refused by its "
        "neighbours for up to 3 minutes",
        saved.error().message());
  }
  return start;
}

void SeqnoStore::Follow(babel::Seqno current) {
  if (!saving_) return;
  const auto ahead = static_cast<uint16_t>(current.value() - saved_.value());
  if (ahead < kSaveEvery || ahead >= 0x8000) return;  // not far enough ahead (mod 2^16)
  if (Status s = Save(current); !s) {
    saving_ = false;
    PLEXUS_LOG_WARNING("babel seqno: {}", s.error().message());
  }
}

}  // namespace plexus::node
