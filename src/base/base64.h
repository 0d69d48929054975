// Standard base64 (RFC 4648 §4, with padding), as wg(8) prints keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace plexus {

std::string Base64Encode(ByteSpan data);
// nullopt on a bad character, bad padding or bad length. Surrounding whitespace is ignored.
std::optional<Bytes> Base64Decode(std::string_view text);

}  // namespace plexus
