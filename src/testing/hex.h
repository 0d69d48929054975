// Hex literals in tests (known-answer vectors are printed in hex).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "base/bytes.h"

namespace plexus::testing {

// The bytes of `hex`; a malformed literal fails the current test.
inline Bytes Unhex(std::string_view hex) {
  std::optional<Bytes> b = FromHex(hex);
  EXPECT_TRUE(b.has_value()) << "bad hex literal: " << hex;
  return b.value_or(Bytes{});
}

}  // namespace plexus::testing
