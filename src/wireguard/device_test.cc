// Two in-process Devices through a whole life: handshakes from either side,
// data both ways, keepalives, rekeying, expiry, retries, zeroing, roaming.
#include "wireguard/device.h"

#include <gtest/gtest.h>

#include "wireguard/constants.h"
#include "wireguard/device_test_util.h"

namespace plexus::wireguard {
namespace {

using testing_util::DevicePair;
using testing_util::Packet;
using testing_util::Text;

size_t CountDrops(const std::vector<DropReason>& v, DropReason r) {
  return std::count(v.begin(), v.end(), r);
}

size_t CountType(const std::vector<Bytes>& v, MessageType t) {
  return std::count_if(v.begin(), v.end(),
                       [t](const Bytes& b) { return b[0] == std::byte(static_cast<uint8_t>(t)); });
}

// A sends a first packet: it is refused (no keypair), a handshake runs, and
// both sides end with a confirmed session.
void Handshake(DevicePair& p) {
  Outputs out = p.a().Send(p.pb(), Packet("first"), p.now());
  ASSERT_EQ(out.drop, DropReason::kNoKeypair);
  ASSERT_EQ(out.datagrams.size(), 1u);
  p.Pump(p.a(), std::move(out));
  ASSERT_NE(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  ASSERT_NE(p.b().SendingKeypair(p.pa(), p.now()), nullptr) << "keepalive confirms next";
}

TEST(DeviceTest, HandshakeFromInitiatorThenDataBothWays) {
  DevicePair p;
  Handshake(p);
  EXPECT_TRUE(p.drops_at_a.empty());
  EXPECT_TRUE(p.drops_at_b.empty());
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("hello b"), p.now()));
  p.Pump(p.b(), p.b().Send(p.pa(), Packet("hello a"), p.now()));
  ASSERT_EQ(p.received_by_b.size(), 1u);
  ASSERT_EQ(p.received_by_a.size(), 1u);
  EXPECT_EQ(Text(p.received_by_b[0], 7), "hello b");
  EXPECT_EQ(Text(p.received_by_a[0], 7), "hello a");
  EXPECT_EQ(p.received_by_b[0].size(), 16u) << "padded to a multiple of 16";
  EXPECT_EQ(p.a().FindPeer(p.pb())->stats().last_handshake, p.now());
  EXPECT_GT(p.b().FindPeer(p.pa())->stats().rx_bytes, 0u);
}

TEST(DeviceTest, HandshakeWithPresharedKey) {
  DevicePair p(/*psk=*/true);
  Handshake(p);
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("psk"), p.now()));
  EXPECT_EQ(p.received_by_b.size(), 1u);
}

TEST(DeviceTest, HandshakeFromResponderSide) {
  DevicePair p;
  Outputs out = p.b().PacketQueued(p.pa(), p.now());
  ASSERT_EQ(out.datagrams.size(), 1u);
  p.Pump(p.b(), std::move(out));
  ASSERT_NE(p.b().SendingKeypair(p.pa(), p.now()), nullptr);
  ASSERT_NE(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("x"), p.now()));
  ASSERT_EQ(p.received_by_b.size(), 1u);
  EXPECT_TRUE(p.b().SendingKeypair(p.pa(), p.now())->is_initiator());
  EXPECT_FALSE(p.a().SendingKeypair(p.pb(), p.now())->is_initiator());
}

TEST(DeviceTest, ResponderKeypairWaitsInNextUntilFirstTransportMessage) {
  DevicePair p;
  p.filter = [&](Device& to, const Bytes& b) {
    return !(&to == &p.b() && b[0] == std::byte{4});  // lose A's keepalive
  };
  p.Pump(p.a(), p.a().PacketQueued(p.pb(), p.now()));
  ASSERT_NE(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  EXPECT_EQ(p.b().SendingKeypair(p.pa(), p.now()), nullptr);
  EXPECT_NE(p.b().FindPeer(p.pa())->next(), nullptr);
  EXPECT_EQ(p.b().Send(p.pa(), Packet("early"), p.now()).drop, DropReason::kNoKeypair);
  p.filter = nullptr;
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("confirm"), p.now()));
  EXPECT_NE(p.b().SendingKeypair(p.pa(), p.now()), nullptr);
  EXPECT_EQ(p.b().FindPeer(p.pa())->next(), nullptr);
}

TEST(DeviceTest, KeepaliveSentWhenDataReceivedButNothingSent) {
  DevicePair p;
  Handshake(p);
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("ping"), p.now()));
  size_t before = p.delivered_to_a.size();
  p.Run(kKeepaliveTimeout - 1ms);
  EXPECT_EQ(p.delivered_to_a.size(), before);
  p.Run(2ms);
  ASSERT_EQ(p.delivered_to_a.size(), before + 1);
  EXPECT_EQ(p.delivered_to_a.back().size(), kTransportMinimumSize) << "a keepalive";
  EXPECT_TRUE(p.received_by_a.empty()) << "keepalives carry no packet";
}

TEST(DeviceTest, NoKeepaliveWhenReplyWasSent) {
  DevicePair p;
  Handshake(p);
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("ping"), p.now()));
  p.Pump(p.b(), p.b().Send(p.pa(), Packet("pong"), p.now()));
  size_t to_a = p.delivered_to_a.size();
  size_t to_b = p.delivered_to_b.size();
  p.Run(kKeepaliveTimeout + 1s);
  EXPECT_EQ(p.delivered_to_a.size(), to_a) << "B answered A's data, so B sends no keepalive";
  ASSERT_EQ(p.delivered_to_b.size(), to_b + 1) << "A got data and sent none: one keepalive";
  EXPECT_EQ(p.delivered_to_b.back().size(), kTransportMinimumSize);
}

TEST(DeviceTest, NewHandshakeWhenDataSentButNothingReceived) {
  DevicePair p;
  Handshake(p);
  p.filter = [&](Device& to, const Bytes&) { return &to != &p.a(); };  // B is mute
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("anyone?"), p.now()));
  size_t before = CountType(p.delivered_to_b, MessageType::kInitiation);
  p.Run(kKeepaliveTimeout + kRekeyTimeout - 1ms);
  EXPECT_EQ(CountType(p.delivered_to_b, MessageType::kInitiation), before);
  p.Run(kRekeyTimeoutJitterMax + 2ms);
  EXPECT_EQ(CountType(p.delivered_to_b, MessageType::kInitiation), before + 1);
}

TEST(DeviceTest, RekeyAfterTimeWithoutLoss) {
  DevicePair p;
  Handshake(p);
  auto first = p.a().SendingKeypair(p.pb(), p.now());
  int sent = 0;
  // Traffic both ways every second for 130 s: A rekeys at 120 s.
  for (int i = 0; i < 130; ++i) {
    p.Pump(p.a(), p.a().Send(p.pb(), Packet("a" + std::to_string(i)), p.now()));
    p.Pump(p.b(), p.b().Send(p.pa(), Packet("b" + std::to_string(i)), p.now()));
    ++sent;
    p.Run(1s);
  }
  EXPECT_EQ(p.received_by_b.size(), static_cast<size_t>(sent));
  EXPECT_EQ(p.received_by_a.size(), static_cast<size_t>(sent));
  auto second = p.a().SendingKeypair(p.pb(), p.now());
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second.get(), first.get());
  EXPECT_GE(second->created() - first->created(), Duration(kRekeyAfterTime));
  EXPECT_TRUE(p.drops_at_a.empty());
  EXPECT_TRUE(p.drops_at_b.empty());
}

TEST(DeviceTest, RekeyAfterMessages) {
  DevicePair p;
  Handshake(p);
  auto keypair = p.a().SendingKeypair(p.pb(), p.now());
  keypair->SetSendCounterForTest(kRekeyAfterMessages);
  p.clock().Advance(kRekeyTimeout);  // past the handshake rate limit
  Outputs out = p.a().Send(p.pb(), Packet("many"), p.now());
  ASSERT_FALSE(out.drop);
  EXPECT_EQ(CountType({out.datagrams[0].bytes}, MessageType::kTransport), 1u);
  ASSERT_EQ(out.datagrams.size(), 2u) << "data plus a new initiation";
  EXPECT_EQ(out.datagrams[1].bytes[0], std::byte{1});
  p.Pump(p.a(), std::move(out));
  EXPECT_EQ(p.received_by_b.size(), 1u);
  EXPECT_NE(p.a().SendingKeypair(p.pb(), p.now()), keypair);
}

TEST(DeviceTest, KeypairRefusedAfterRejectAfterTime) {
  DevicePair p;
  Handshake(p);
  Outputs late = p.a().Send(p.pb(), Packet("late"), p.now());
  ASSERT_EQ(late.datagrams.size(), 1u);
  p.clock().Advance(kRejectAfterTime);
  EXPECT_EQ(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  Outputs o = p.b().Receive(p.now(), late.datagrams[0].bytes, p.ep_a(), false);
  EXPECT_EQ(o.drop, DropReason::kKeypairExpired);
  EXPECT_TRUE(o.packets.empty());
  // Sending now needs a new handshake.
  EXPECT_EQ(p.a().Send(p.pb(), Packet("x"), p.now()).drop, DropReason::kNoKeypair);
  // Tick drops the expired keypairs entirely.
  Outputs t = p.b().Tick(p.now());
  EXPECT_TRUE(t.keypairs_changed);
  EXPECT_TRUE(p.b().Keypairs().empty());
}

TEST(DeviceTest, HandshakeRetriesWithJitterThenGivesUpAndZeroes) {
  DevicePair p;
  p.filter = [](Device&, const Bytes&) { return false; };  // B unreachable
  std::vector<Timestamp> sent;
  auto note = [&](const Outputs& o) {
    for (auto& d : o.datagrams) {
      if (d.bytes[0] == std::byte{1}) sent.push_back(p.now());
    }
  };
  Outputs first = p.a().PacketQueued(p.pb(), p.now());
  note(first);
  bool gave_up = false;
  for (int i = 0; i < 100 && !gave_up; ++i) {
    p.clock().AdvanceTo(p.a().NextDeadline());
    Outputs o = p.a().Tick(p.now());
    note(o);
    gave_up = !o.drop_staged.empty();
  }
  ASSERT_TRUE(gave_up);
  ASSERT_EQ(sent.size(), static_cast<size_t>(kMaxTimerHandshakes) + 2);
  bool jittered = false;
  for (size_t i = 1; i < sent.size(); ++i) {
    Duration gap = sent[i] - sent[i - 1];
    EXPECT_GE(gap, Duration(kRekeyTimeout));
    EXPECT_LT(gap, Duration(kRekeyTimeout + kRekeyTimeoutJitterMax));
    jittered |= gap != Duration(kRekeyTimeout);
  }
  EXPECT_TRUE(jittered);
  EXPECT_GE(p.now() - sent.front(), Duration(kRekeyAttemptTime));
  // Key material goes 3 * REJECT_AFTER_TIME after giving up.
  const Peer* peer = p.a().FindPeer(p.pb());
  EXPECT_EQ(peer->handshake().state, HandshakeState::kCreatedInitiation);
  p.clock().Advance(kRejectAfterTime * 3 - 1ms);
  (void)p.a().Tick(p.now());
  EXPECT_EQ(peer->handshake().state, HandshakeState::kCreatedInitiation);
  p.clock().Advance(1ms);
  (void)p.a().Tick(p.now());
  EXPECT_EQ(peer->handshake().state, HandshakeState::kZeroed);
  EXPECT_EQ(p.a().NextDeadline(), Timestamp::Infinite());
}

TEST(DeviceTest, KeyMaterialZeroedThreeRejectAfterTimesAfterSession) {
  DevicePair p;
  Handshake(p);
  const Peer* peer = p.a().FindPeer(p.pb());
  EXPECT_TRUE(peer->timers().zero_key_material_armed());
  p.Run(kRejectAfterTime * 3 + 1s);
  EXPECT_FALSE(peer->timers().zero_key_material_armed());
  EXPECT_EQ(peer->current(), nullptr);
  EXPECT_EQ(peer->previous(), nullptr);
  EXPECT_EQ(peer->next(), nullptr);
  EXPECT_TRUE(p.a().Keypairs().empty());
}

TEST(DeviceTest, RoamingFollowsAuthenticatedSource) {
  DevicePair p;
  Handshake(p);
  Endpoint old_b = p.ep_b();
  p.ep_b() = *Endpoint::Parse("[2001:db8::7]:4242");
  p.Pump(p.b(), p.b().Send(p.pa(), Packet("moved"), p.now()));
  EXPECT_EQ(p.a().PeerEndpoint(p.pb()), p.ep_b());
  p.Pump(p.a(), p.a().Send(p.pb(), Packet("found you"), p.now()));
  ASSERT_EQ(p.received_by_b.size(), 1u);
  // A forged datagram from elsewhere does not move the endpoint.
  Bytes junk(64, std::byte{0});
  junk[0] = std::byte{4};
  (void)p.a().Receive(p.now(), junk, old_b, false);
  EXPECT_EQ(p.a().PeerEndpoint(p.pb()), p.ep_b());
}

TEST(DeviceTest, CookieExchangeUnderLoad) {
  DevicePair p;
  p.b_under_load = true;
  p.Pump(p.a(), p.a().PacketQueued(p.pb(), p.now()));
  EXPECT_EQ(CountDrops(p.drops_at_b, DropReason::kCookieRequired), 1u);
  EXPECT_EQ(CountType(p.delivered_to_a, MessageType::kCookieReply), 1u);
  EXPECT_TRUE(p.drops_at_a.empty()) << "cookie reply accepted";
  EXPECT_EQ(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  // The retransmission carries mac2 and gets through.
  p.Run(kRekeyTimeout + kRekeyTimeoutJitterMax);
  EXPECT_EQ(CountDrops(p.drops_at_b, DropReason::kCookieRequired), 1u);
  EXPECT_NE(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  EXPECT_NE(p.b().SendingKeypair(p.pa(), p.now()), nullptr);
}

TEST(DeviceTest, ReplayedInitiationRejectedAsStale) {
  DevicePair p;
  Outputs out = p.a().PacketQueued(p.pb(), p.now());
  Bytes initiation = out.datagrams[0].bytes;
  p.Pump(p.a(), std::move(out));
  p.clock().Advance(1s);
  Outputs again = p.b().Receive(p.now(), initiation, p.ep_a(), false);
  EXPECT_EQ(again.drop, DropReason::kStaleTimestamp);
  EXPECT_TRUE(again.datagrams.empty());
}

TEST(DeviceTest, InitiationFloodFromOnePeerRejected) {
  DevicePair p;
  p.filter = [](Device&, const Bytes&) { return false; };
  Outputs o1 = p.a().PacketQueued(p.pb(), p.now());
  p.clock().Advance(kRekeyTimeout);
  Outputs o2 = p.a().PacketQueued(p.pb(), p.now());
  ASSERT_EQ(o2.datagrams.size(), 1u);
  EXPECT_FALSE(p.b().Receive(p.now(), o1.datagrams[0].bytes, p.ep_a(), false).drop);
  p.clock().Advance(1ms);
  EXPECT_EQ(p.b().Receive(p.now(), o2.datagrams[0].bytes, p.ep_a(), false).drop,
            DropReason::kHandshakeFlood);
}

TEST(DeviceTest, HandshakesRateLimitedPerSourceUnderLoad) {
  DevicePair p;
  p.b_under_load = true;
  // Get a cookie so that A's initiations carry a valid mac2.
  p.Pump(p.a(), p.a().PacketQueued(p.pb(), p.now()));
  ASSERT_EQ(CountType(p.delivered_to_a, MessageType::kCookieReply), 1u);
  Outputs retry;
  for (int i = 0; i < 2 && retry.datagrams.empty(); ++i) {
    p.clock().AdvanceTo(p.a().NextDeadline());
    retry = p.a().Tick(p.now());
  }
  ASSERT_EQ(retry.datagrams.size(), 1u);
  const Bytes& init = retry.datagrams[0].bytes;
  std::vector<DropReason> drops;
  for (int i = 0; i < kHandshakeBurst + 1; ++i) {
    Outputs o = p.b().Receive(p.now(), init, p.ep_a(), true);
    drops.push_back(o.drop.value_or(DropReason::kTooShort));
  }
  EXPECT_NE(drops[0], DropReason::kRateLimited);
  EXPECT_NE(drops[0], DropReason::kCookieRequired);
  EXPECT_EQ(CountDrops(drops, DropReason::kRateLimited), 1u);
  EXPECT_EQ(drops.back(), DropReason::kRateLimited);
  EXPECT_EQ(p.b().drops(DropReason::kRateLimited), 1u);
}

TEST(DeviceTest, ReplayedTransportMessageDropped) {
  DevicePair p;
  Handshake(p);
  Outputs out = p.a().Send(p.pb(), Packet("once"), p.now());
  Bytes msg = out.datagrams[0].bytes;
  EXPECT_EQ(p.b().Receive(p.now(), msg, p.ep_a(), false).packets.size(), 1u);
  EXPECT_EQ(p.b().Receive(p.now(), msg, p.ep_a(), false).drop, DropReason::kReplay);
  msg[20] ^= std::byte{1};
  EXPECT_EQ(p.b().Receive(p.now(), msg, p.ep_a(), false).drop, DropReason::kDecryptFailed);
}

TEST(DeviceTest, MalformedDatagramsDroppedWithReasons) {
  DevicePair p;
  Outputs out = p.a().PacketQueued(p.pb(), p.now());
  Bytes init = out.datagrams[0].bytes;
  auto drop = [&](Bytes b) { return p.b().Receive(p.now(), b, p.ep_a(), false).drop; };
  EXPECT_EQ(drop(Bytes(3)), DropReason::kTooShort);
  EXPECT_EQ(drop(Bytes(148)), DropReason::kUnknownType);
  Bytes reserved = init;
  reserved[1] = std::byte{1};
  EXPECT_EQ(drop(reserved), DropReason::kUnknownType);
  EXPECT_EQ(drop(Bytes(init.begin(), init.end() - 1)), DropReason::kBadInitiationSize);
  Bytes bad_mac = init;
  bad_mac[120] ^= std::byte{1};
  EXPECT_EQ(drop(bad_mac), DropReason::kBadMac1);
  Bytes response(92);
  response[0] = std::byte{2};
  EXPECT_EQ(drop(response), DropReason::kBadMac1);
  Bytes cookie(64);
  cookie[0] = std::byte{3};
  EXPECT_EQ(drop(cookie), DropReason::kUnknownReceiverIndex);
  Bytes transport(31);
  transport[0] = std::byte{4};
  EXPECT_EQ(drop(transport), DropReason::kBadTransportSize);
  transport.resize(32);
  EXPECT_EQ(drop(transport), DropReason::kUnknownReceiverIndex);
}

TEST(DeviceTest, InitiationFromUnknownPeerDropped) {
  DevicePair p;
  ASSERT_TRUE(p.b().RemovePeer(p.pa()));
  Outputs out = p.a().PacketQueued(p.pb(), p.now());
  EXPECT_EQ(p.b().Receive(p.now(), out.datagrams[0].bytes, p.ep_a(), false).drop,
            DropReason::kUnknownPeer);
}

// The responder may not send before the initiator has (whitepaper §5.4.7);
// what it queues meanwhile waits for that first message instead of starting
// a crossed handshake.
TEST(DeviceTest, ResponderWaitsForConfirmationInsteadOfCrossingHandshakes) {
  DevicePair p;
  Outputs init = p.a().PacketQueued(p.pb(), p.now());
  ASSERT_EQ(init.datagrams.size(), 1u);
  Outputs response = p.b().Receive(p.now(), init.datagrams[0].bytes, p.ep_a(), false);
  ASSERT_EQ(response.datagrams.size(), 1u);
  const Bytes packet(40, std::byte{0x60});
  Outputs queued = p.b().Send(p.pa(), packet, p.now());
  EXPECT_EQ(queued.drop, DropReason::kNoKeypair);
  EXPECT_TRUE(queued.datagrams.empty()) << "b started a handshake of its own";
  Outputs done = p.a().Receive(p.now(), response.datagrams[0].bytes, p.ep_b(), false);
  ASSERT_FALSE(done.drop);
  Outputs first = p.a().Send(p.pb(), packet, p.now());
  ASSERT_EQ(first.datagrams.size(), 1u);
  Outputs confirmed = p.b().Receive(p.now(), first.datagrams[0].bytes, p.ep_a(), false);
  EXPECT_FALSE(confirmed.drop);
  EXPECT_EQ(confirmed.flush_staged, std::vector<crypto::PublicKey>{p.pa()});
  EXPECT_TRUE(p.b().SendingKeypair(p.pa(), p.now()));
}

TEST(DeviceTest, AdmissionLetsAnUnknownInitiatorIn) {
  DevicePair p;
  ASSERT_TRUE(p.b().RemovePeer(p.pa()));
  std::vector<crypto::PublicKey> asked;
  p.b().SetAdmission([&](const crypto::PublicKey& key) {
    asked.push_back(key);
    return true;
  });
  Outputs init = p.a().PacketQueued(p.pb(), p.now());
  Outputs answer = p.b().Receive(p.now(), init.datagrams[0].bytes, p.ep_a(), false);
  EXPECT_FALSE(answer.drop);
  ASSERT_EQ(answer.admitted.size(), 1u);
  EXPECT_EQ(answer.admitted[0], p.pa());
  EXPECT_EQ(asked, std::vector<crypto::PublicKey>{p.pa()});
  ASSERT_NE(p.b().FindPeer(p.pa()), nullptr);
  EXPECT_EQ(p.b().PeerEndpoint(p.pa()), p.ep_a());
  ASSERT_EQ(answer.datagrams.size(), 1u);  // the handshake response
  Outputs done = p.a().Receive(p.now(), answer.datagrams[0].bytes, p.ep_b(), false);
  EXPECT_FALSE(done.drop);
  EXPECT_TRUE(p.a().SendingKeypair(p.pb(), p.now()));
}

TEST(DeviceTest, AdmissionRefusedIsAnUnknownPeer) {
  DevicePair p;
  ASSERT_TRUE(p.b().RemovePeer(p.pa()));
  p.b().SetAdmission([](const crypto::PublicKey&) { return false; });
  Outputs out = p.a().PacketQueued(p.pb(), p.now());
  Outputs answer = p.b().Receive(p.now(), out.datagrams[0].bytes, p.ep_a(), false);
  EXPECT_EQ(answer.drop, DropReason::kUnknownPeer);
  EXPECT_TRUE(answer.admitted.empty());
  EXPECT_EQ(p.b().FindPeer(p.pa()), nullptr);
}

// An initiation whose timestamp does not decrypt (the initiator does not
// hold the key it claims) leaves no peer behind.
TEST(DeviceTest, AdmissionForgetsAnInitiatorThatFailsTheHandshake) {
  DevicePair p;
  ASSERT_TRUE(p.b().RemovePeer(p.pa()));
  p.b().SetAdmission([](const crypto::PublicKey&) { return true; });
  Outputs out = p.a().PacketQueued(p.pb(), p.now());
  Bytes forged = out.datagrams[0].bytes;
  forged[100] ^= std::byte{1};                  // inside encrypted_timestamp (offset 88..116)
  PeerCookie(p.pb()).AddMacs(forged, p.now());  // a valid mac1 again
  Outputs answer = p.b().Receive(p.now(), forged, p.ep_a(), false);
  EXPECT_EQ(answer.drop, DropReason::kHandshakeDecryptFailed);
  EXPECT_TRUE(answer.admitted.empty());
  EXPECT_EQ(p.b().FindPeer(p.pa()), nullptr);
}

TEST(DeviceTest, MismatchedPresharedKeyFailsHandshake) {
  DevicePair p;
  ASSERT_TRUE(p.b().RemovePeer(p.pa()));
  PresharedKey psk;
  psk.mutable_span()[0] = std::byte{1};
  ASSERT_TRUE(p.b().AddPeer({p.pa(), std::move(psk), p.ep_a(), Duration(0)}, p.now()).ok());
  p.Pump(p.a(), p.a().PacketQueued(p.pb(), p.now()));
  EXPECT_EQ(CountDrops(p.drops_at_a, DropReason::kHandshakeDecryptFailed), 1u);
  EXPECT_EQ(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
}

TEST(DeviceTest, PersistentKeepaliveStartsHandshakeAndRepeats) {
  DevicePair p;
  ASSERT_TRUE(p.a().RemovePeer(p.pb()));
  ASSERT_TRUE(p.a().AddPeer({p.pb(), {}, p.ep_b(), Duration(25s)}, p.now()).ok());
  p.Tick();
  ASSERT_NE(p.a().SendingKeypair(p.pb(), p.now()), nullptr);
  size_t before = CountType(p.delivered_to_b, MessageType::kTransport);
  p.Run(25s + 1ms);
  EXPECT_EQ(CountType(p.delivered_to_b, MessageType::kTransport), before + 1);
}

TEST(DeviceTest, AddPeerRejectsDuplicatesAndSelf) {
  DevicePair p;
  EXPECT_FALSE(p.a().AddPeer({p.pb(), {}, std::nullopt, Duration(0)}, p.now()).ok());
  EXPECT_FALSE(p.a().AddPeer({p.pa(), {}, std::nullopt, Duration(0)}, p.now()).ok());
}

TEST(DeviceTest, KeypairsAndIndexLookupsForSnapshots) {
  DevicePair p;
  uint64_t gen = p.a().keypair_generation();
  Handshake(p);
  EXPECT_GT(p.a().keypair_generation(), gen);
  auto all = p.b().Keypairs();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(p.b().KeypairByIndex(all[0]->local_index()), all[0]);
  EXPECT_EQ(all[0]->peer(), p.pa());
  // Transport through the data-plane API: Seal, Open, report.
  auto tx = p.a().SendingKeypair(p.pb(), p.now());
  Bytes buf(Keypair::MessageSize(16));
  auto n = tx->Seal(buf, AsBytes("dp"), kDefaultMtu, p.now());
  ASSERT_TRUE(n.ok());
  (void)p.a().TransportSent(*tx, 2, *n, p.now());
  auto rx = p.b().KeypairByIndex(LoadLe32(buf.data() + 4));
  ASSERT_NE(rx, nullptr);
  Bytes plain(16);
  auto m = rx->Open(plain, buf, p.now());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Text(plain, 2), "dp");
  (void)p.b().TransportReceived(*rx, p.ep_a(), *m, *n, p.now());
  EXPECT_EQ(p.b().FindPeer(p.pa())->stats().rx_bytes, *n + 32 /* the confirming keepalive */);
}

}  // namespace
}  // namespace plexus::wireguard
