"""plexus <-> wireguard-go: the link speaks the WireGuard protocol exactly.

Node a runs in namespace a (plexus, or wireguard-go for the `harness` runs that
validate this test harness against two copies of wireguard-go); node b is
always wireguard-go configured with wg(8). Who initiates the handshake is
forced by giving only one side the other's endpoint.
"""

import time

import pytest

import netns

KINDS = [
    pytest.param("plexus", id="plexus-wggo"),
    pytest.param("wireguard-go", id="harness-wggo-wggo", marks=pytest.mark.harness),
]
TRANSFER_BYTES = 50 * 1000 * 1000


@pytest.fixture(params=KINDS)
def kind_a(request):
    return request.param


def assert_recent_handshake(node, peer, since: float):
    ts = node.handshake_unix(peer.public_key)
    assert ts >= int(since) - 1, (
        f"{node.label}: last handshake with {peer.label} is {ts}, expected >= {int(since)}")


def ping_both_ways(x, y, count: int = 3):
    for src, dst in ((x, y), (y, x)):
        for addr in (dst.inner_v6, dst.inner_v4):
            sent, received = src.ns.ping(addr, count=count)
            assert received == sent, f"{src.label} -> {addr}: {received}/{sent} replies"


def test_handshake_initiated_by_node_a(lab, kind_a):
    """a knows b's endpoint, b does not know a's: a must initiate."""
    t0 = time.time()
    a, b = lab.pair(kind_a, "wireguard-go", a_knows_endpoint=True, b_knows_endpoint=False)
    netns.wait_tunnel(a, b)
    assert_recent_handshake(a, b, t0)
    assert_recent_handshake(b, a, t0)
    ping_both_ways(a, b)


def test_handshake_initiated_by_wireguard_go(lab, kind_a):
    """b (wireguard-go) knows a's endpoint, a does not know b's: b must initiate."""
    t0 = time.time()
    a, b = lab.pair(kind_a, "wireguard-go", a_knows_endpoint=False, b_knows_endpoint=True)
    netns.wait_tunnel(b, a)
    assert_recent_handshake(a, b, t0)
    assert_recent_handshake(b, a, t0)
    ping_both_ways(b, a)


def test_ipv6_underlay(lab, kind_a):
    """Endpoints given as [fd11::x]:port: the link runs over the IPv6 underlay."""
    a, b = lab.node(kind_a, 0), lab.node("wireguard-go", 1)
    netns.connect(a, b, v6_underlay=True)
    a.start()
    b.start()
    netns.wait_tunnel(a, b)
    ping_both_ways(a, b)


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_tcp_transfer_checksum(lab, kind_a, direction):
    a, b = lab.pair(kind_a, "wireguard-go")
    netns.wait_tunnel(a, b)
    src, dst, addr = (a, b, b.inner_v6) if direction == "a_to_b" else (b, a, a.inner_v4)
    sent, received = netns.tcp_transfer(src.ns, dst.ns, addr, TRANSFER_BYTES)
    assert received["bytes"] == TRANSFER_BYTES
    assert received["sha256"] == sent["sha256"]


def test_new_handshake_after_node_a_restarts(lab, kind_a):
    a, b = lab.pair(kind_a, "wireguard-go")
    netns.wait_tunnel(a, b)
    before = b.handshake_unix(a.public_key)
    time.sleep(1.1)  # handshake timestamps have one-second resolution
    a.restart()
    netns.wait_tunnel(a, b, timeout=30)
    assert b.handshake_unix(a.public_key) > before, "wireguard-go saw no new handshake"
    netns.wait_tunnel(b, a, timeout=30)


def test_new_handshake_after_wireguard_go_restarts(lab, kind_a):
    a, b = lab.pair(kind_a, "wireguard-go")
    netns.wait_tunnel(a, b)
    before = a.handshake_unix(b.public_key)
    time.sleep(1.1)
    b.restart()
    netns.wait_tunnel(b, a, timeout=30)
    assert a.handshake_unix(b.public_key) > before, f"{a.label} saw no new handshake"
    netns.wait_tunnel(a, b, timeout=30)


def test_traffic_resumes_from_stale_side_after_restart(lab, kind_a):
    """After b restarts, a still holds the old session: a's traffic must recover
    on its own (WireGuard: new handshake once sent data gets no answer)."""
    a, b = lab.pair(kind_a, "wireguard-go")
    netns.wait_tunnel(a, b)
    b.restart()
    # REKEY_TIMEOUT + KEEPALIVE_TIMEOUT is 15 s; allow two rounds
    netns.wait_tunnel(a, b, timeout=40)


def test_persistent_keepalive_reaches_wireguard_go(lab, kind_a):
    """a sends a keepalive every second with no traffic; wireguard-go receives them
    (a keepalive is a 32-byte transport message: wg counts its bytes)."""
    a, b = lab.node(kind_a, 0), lab.node("wireguard-go", 1)
    netns.connect(a, b)
    a.peers[0].keepalive = 1
    a.start()
    b.start()
    netns.wait_tunnel(a, b)
    time.sleep(1.5)  # let the ping traffic's own keepalives settle
    rx0, _ = b.transfer(a.public_key)
    time.sleep(4)
    rx1, _ = b.transfer(a.public_key)
    assert rx1 - rx0 >= 2 * 32, f"wireguard-go received {rx1 - rx0} bytes in 4 s of keepalives"
