#include "wireguard/messages.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace plexus::wireguard {
namespace {

Bytes Message(uint8_t type, size_t size) {
  Bytes b(size);
  if (size > 0) b[0] = std::byte{type};
  return b;
}

TEST(MessagesTest, ClassifyChecksSizePerType) {
  struct {
    uint8_t type;
    size_t size;
    bool ok;
    DropReason reason;
  } cases[] = {
      {1, 148, true, {}},
      {1, 147, false, DropReason::kBadInitiationSize},
      {1, 149, false, DropReason::kBadInitiationSize},
      {2, 92, true, {}},
      {2, 93, false, DropReason::kBadResponseSize},
      {3, 64, true, {}},
      {3, 63, false, DropReason::kBadCookieReplySize},
      {4, 32, true, {}},
      {4, 1500, true, {}},
      {4, 31, false, DropReason::kBadTransportSize},
      {5, 148, false, DropReason::kUnknownType},
      {0, 4, false, DropReason::kUnknownType},
      {1, 3, false, DropReason::kTooShort},
  };
  for (auto c : cases) {
    auto v = ClassifyDatagram(Message(c.type, c.size));
    ASSERT_EQ(v.ok(), c.ok) << int(c.type) << "/" << c.size;
    if (c.ok) {
      EXPECT_EQ(static_cast<uint8_t>(*v), c.type);
    } else {
      EXPECT_EQ(v.reason(), c.reason) << int(c.type) << "/" << c.size;
    }
  }
}

TEST(MessagesTest, NonZeroReservedBytesMakeTypeUnknown) {
  Bytes b = Message(1, 148);
  b[3] = std::byte{1};
  EXPECT_EQ(ClassifyDatagram(b).reason(), DropReason::kUnknownType);
}

TEST(MessagesTest, FieldOffsetsMatchTheProtocol) {
  EXPECT_EQ(offsetof(MessageInitiation, ephemeral), 8u);
  EXPECT_EQ(offsetof(MessageInitiation, encrypted_static), 40u);
  EXPECT_EQ(offsetof(MessageInitiation, encrypted_timestamp), 88u);
  EXPECT_EQ(offsetof(MessageInitiation, mac1), 116u);
  EXPECT_EQ(offsetof(MessageResponse, ephemeral), 12u);
  EXPECT_EQ(offsetof(MessageResponse, mac1), 60u);
  EXPECT_EQ(offsetof(MessageCookieReply, encrypted_cookie), 32u);
  EXPECT_EQ(offsetof(MessageTransportHeader, counter), 8u);
}

TEST(DropReasonTest, NamesAreUniqueSnakeCase) {
  std::set<std::string> names;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    std::string name(ToString(static_cast<DropReason>(i)));
    EXPECT_NE(name, "unknown");
    for (char ch : name) EXPECT_TRUE(std::islower(ch) || ch == '_' || std::isdigit(ch)) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kDropReasonCount);
}

}  // namespace
}  // namespace plexus::wireguard
