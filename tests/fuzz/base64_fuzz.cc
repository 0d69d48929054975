// libFuzzer target: Base64Decode (base/base64.h) on arbitrary text.
//
// Properties checked (a violation traps):
//   - a successful decode re-encodes to text that decodes to the same bytes;
//   - the encoding is canonical: 4 * ceil(n / 3) characters, and decoding it
//     and encoding again gives the same text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<plexus::Bytes> decoded = plexus::Base64Decode(text);
  if (!decoded) return 0;
  std::string encoded = plexus::Base64Encode(*decoded);
  if (encoded.size() != (decoded->size() + 2) / 3 * 4) __builtin_trap();
  std::optional<plexus::Bytes> again = plexus::Base64Decode(encoded);
  if (!again || *again != *decoded) __builtin_trap();
  if (plexus::Base64Encode(*again) != encoded) __builtin_trap();
  return 0;
}
