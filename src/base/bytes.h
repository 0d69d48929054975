// Byte spans and a bounds-checked reader/writer for wire formats (STYLE.md rule 4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plexus {

using ByteSpan = std::span<const std::byte>;
using MutableByteSpan = std::span<std::byte>;
using Bytes = std::vector<std::byte>;

template <size_t N>
using ByteArray = std::array<std::byte, N>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline const uint8_t* U8(ByteSpan b) {
  return reinterpret_cast<const uint8_t*>(b.data());
}
inline uint8_t* U8(MutableByteSpan b) {
  return reinterpret_cast<uint8_t*>(b.data());
}

// Lowercase hex of `b`.
std::string ToHex(ByteSpan b);
// Parses hex (either case, no separators); nullopt on odd length or a bad digit.
std::optional<Bytes> FromHex(std::string_view hex);

// Constant-time comparison of two equal-length spans; false if lengths differ.
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

// Little- and big-endian integer access on raw bytes.
inline uint32_t LoadLe32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86-64 and aarch64 are little-endian; static_assert in bytes.cc.
}
inline uint64_t LoadLe64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void StoreLe32(std::byte* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
inline void StoreLe64(std::byte* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}
inline uint16_t LoadBe16(const std::byte* p) {
  return static_cast<uint16_t>((std::to_integer<uint16_t>(p[0]) << 8) |
                               std::to_integer<uint16_t>(p[1]));
}
inline void StoreBe16(std::byte* p, uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v & 0xff);
}
inline uint32_t LoadBe32(const std::byte* p) {
  return (uint32_t{LoadBe16(p)} << 16) | LoadBe16(p + 2);
}
inline void StoreBe32(std::byte* p, uint32_t v) {
  StoreBe16(p, static_cast<uint16_t>(v >> 16));
  StoreBe16(p + 2, static_cast<uint16_t>(v & 0xffff));
}

// Reads fields from a span, never past its end. Each Read* returns false (and
// leaves the reader failed) when fewer bytes remain than requested.
class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool failed() const { return failed_; }

  bool ReadU8(uint8_t& out);
  bool ReadBe16(uint16_t& out);
  bool ReadBe32(uint32_t& out);
  bool ReadLe32(uint32_t& out);
  bool ReadLe64(uint64_t& out);
  bool ReadBytes(MutableByteSpan out);
  // A view of the next n bytes, advancing past them.
  bool ReadSpan(size_t n, ByteSpan& out);
  bool Skip(size_t n);
  ByteSpan Rest() const { return data_.subspan(pos_); }

 private:
  bool Take(size_t n, const std::byte*& p);

  ByteSpan data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Appends fields to a growable buffer.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void WriteU8(uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void WriteBe16(uint16_t v);
  void WriteBe32(uint32_t v);
  void WriteLe32(uint32_t v);
  void WriteLe64(uint64_t v);
  void WriteBytes(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

}  // namespace plexus
