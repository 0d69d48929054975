"""Garbage at the node's UDP port: truncated, oversized and random datagrams of
every WireGuard message type, unknown receiver indices, bad MAC1s (see
udp_garbage.py). The node must survive, count every dropped datagram under a
named reason, and keep an established session working during and after the flood.

The garbage is sent from namespace a (the peer's own underlay address, other
source ports) to node b. The `harness-wggo` runs aim the same flood at
wireguard-go to validate the harness; the drop-counter checks are plexus-only.
"""

import json

import pytest

import netns

KINDS = [
    pytest.param("plexus", id="plexus"),
    pytest.param("wireguard-go", id="harness-wggo", marks=pytest.mark.harness),
]


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def udp_counter(ns: netns.Namespace, name: str) -> int:
    """A UDP counter of the namespace, IPv4 + IPv6 (e.g. InDatagrams, RcvbufErrors)."""
    total = ns.udp_snmp().get(name, 0)
    text = ns.run(["cat", "/proc/net/snmp6"]).stdout
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == f"Udp6{name}":
            total += int(value.strip())
    return total


def rcvbuf_errors(ns: netns.Namespace) -> int:
    """Datagrams the kernel dropped for a full socket buffer."""
    return udp_counter(ns, "RcvbufErrors")


def flood_and_check(a, b, dest: str, rounds: int, seed: int):
    """Floods b at dest while a pings b; returns (report, drops_before, drops_after)."""
    plexus = b.kind == "plexus"
    drops_before = b.status().get("drops", {}) if plexus else {}
    kernel_before = rcvbuf_errors(b.ns)
    delivered_before = udp_counter(b.ns, "InDatagrams")
    ping = netns.BackgroundPing(a.ns, b.inner_v6, interval=0.05)
    try:
        report = netns.send_garbage(a.ns, dest, b.port, seed=seed, rounds=rounds,
                                    responder_public_key=b.public_key)
    finally:
        sent, received = ping.stop()
    assert b.alive(), f"{b.label} died during the flood"
    delivered = udp_counter(b.ns, "InDatagrams") - delivered_before
    assert delivered + rcvbuf_errors(b.ns) - kernel_before >= report["sent"] - 1, \
        f"harness: only {delivered} of {report['sent']} garbage datagrams reached a socket"
    assert sent > 0 and received >= sent // 2, \
        f"session suffered during the flood: {received}/{sent} pings answered"
    after_sent, after_received = a.ns.ping(b.inner_v6, count=10, interval=0.05)
    assert after_received == after_sent, f"after the flood: {after_received}/{after_sent}"
    after_sent, after_received = b.ns.ping(a.inner_v4, count=5, interval=0.05)
    assert after_received == after_sent, f"b -> a after the flood: {after_received}/{after_sent}"
    if not plexus:
        return report, {}, {}
    drops_after = b.status().get("drops", {})
    kernel_lost = rcvbuf_errors(b.ns) - kernel_before
    delta = sum(drops_after.values()) - sum(drops_before.values())
    print(json.dumps({"report": report, "kernel_rcvbuf_lost": kernel_lost,
                      "drops_after": drops_after}, indent=1))
    assert delta >= report["must_drop"] - kernel_lost, (
        f"{report['must_drop']} garbage datagrams ({kernel_lost} lost in the kernel) but "
        f"drops grew by {delta}: before {drops_before} after {drops_after}")
    grown = [r for r, v in drops_after.items() if v > drops_before.get(r, 0)]
    assert grown, "no drop reason counted the garbage"
    return report, drops_before, drops_after


def test_garbage_flood_ipv4(lab, kind):
    a, b = lab.pair(kind, kind)
    netns.wait_tunnel(a, b)
    report, before, after = flood_and_check(a, b, b.underlay_v4, rounds=40, seed=1)
    assert report["sent"] > 2000


def test_garbage_flood_ipv6_underlay(lab, kind):
    a, b = lab.node(kind, 0), lab.node(kind, 1)
    netns.connect(a, b, v6_underlay=True)
    a.start()
    b.start()
    netns.wait_tunnel(a, b)
    flood_and_check(a, b, b.underlay_v6, rounds=10, seed=2)


def test_drop_reasons_are_distinguished(lab):
    """Short datagrams, unknown types and unknown receiver indices are different
    failures; a node should not lump them all under one reason."""
    a, b = lab.pair("plexus", "plexus")
    netns.wait_tunnel(a, b)
    before = b.status().get("drops", {})
    netns.send_garbage(a.ns, b.underlay_v4, b.port, seed=3, rounds=5)
    after = b.status().get("drops", {})
    grown = sorted(r for r, v in after.items() if v > before.get(r, 0))
    assert len(grown) >= 2, f"only {grown} counted: {after}"


def test_garbage_before_any_handshake(lab, kind):
    """A node with no session yet survives the flood and still completes its
    first handshake afterwards."""
    a, b = lab.node(kind, 0), lab.node(kind, 1)
    netns.connect(a, b, a_knows_endpoint=False, b_knows_endpoint=True)
    a.start()
    netns.send_garbage(b.ns, a.underlay_v4, a.port, seed=4, rounds=10,
                       responder_public_key=a.public_key)
    assert a.alive()
    b.start()
    netns.wait_tunnel(b, a)
