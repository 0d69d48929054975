#include "base/bytes.h"

#include <bit>

namespace plexus {

static_assert(std::endian::native == std::endian::little, "plexus assumes a little-endian host");

std::string ToHex(ByteSpan b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (std::byte x : b) {
    out.push_back(kDigits[std::to_integer<unsigned>(x) >> 4]);
    out.push_back(kDigits[std::to_integer<unsigned>(x) & 0xf]);
  }
  return out;
}

namespace {
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexDigit(hex[2 * i]);
    int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = std::byte((hi << 4) | lo);
  }
  return out;
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= std::to_integer<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

bool ByteReader::Take(size_t n, const std::byte*& p) {
  if (failed_ || remaining() < n) {
    failed_ = true;
    return false;
  }
  p = data_.data() + pos_;
  pos_ += n;
  return true;
}

bool ByteReader::ReadU8(uint8_t& out) {
  const std::byte* p;
  if (!Take(1, p)) return false;
  out = std::to_integer<uint8_t>(*p);
  return true;
}

bool ByteReader::ReadBe16(uint16_t& out) {
  const std::byte* p;
  if (!Take(2, p)) return false;
  out = LoadBe16(p);
  return true;
}

bool ByteReader::ReadBe32(uint32_t& out) {
  const std::byte* p;
  if (!Take(4, p)) return false;
  out = LoadBe32(p);
  return true;
}

bool ByteReader::ReadLe32(uint32_t& out) {
  const std::byte* p;
  if (!Take(4, p)) return false;
  out = LoadLe32(p);
  return true;
}

bool ByteReader::ReadLe64(uint64_t& out) {
  const std::byte* p;
  if (!Take(8, p)) return false;
  out = LoadLe64(p);
  return true;
}

bool ByteReader::ReadBytes(MutableByteSpan out) {
  const std::byte* p;
  if (!Take(out.size(), p)) return false;
  std::memcpy(out.data(), p, out.size());
  return true;
}

bool ByteReader::ReadSpan(size_t n, ByteSpan& out) {
  const std::byte* p;
  if (!Take(n, p)) return false;
  out = ByteSpan(p, n);
  return true;
}

bool ByteReader::Skip(size_t n) {
  const std::byte* p;
  return Take(n, p);
}

void ByteWriter::WriteBe16(uint16_t v) {
  std::byte b[2];
  StoreBe16(b, v);
  WriteBytes(b);
}

void ByteWriter::WriteBe32(uint32_t v) {
  std::byte b[4];
  StoreBe32(b, v);
  WriteBytes(b);
}

void ByteWriter::WriteLe32(uint32_t v) {
  std::byte b[4];
  StoreLe32(b, v);
  WriteBytes(b);
}

void ByteWriter::WriteLe64(uint64_t v) {
  std::byte b[8];
  StoreLe64(b, v);
  WriteBytes(b);
}

}  // namespace plexus
