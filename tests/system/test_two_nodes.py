"""Two plexus nodes over one veth pair: pings, a checksummed 200 MB TCP
transfer, `plexus status`, clean shutdown and config errors.

The `harness-wggo-wggo` runs drive two wireguard-go nodes through the same
ping and transfer tests to validate the harness; plexus-only checks skip there.
"""

import base64
import re
import signal
import subprocess
import time

import pytest

import netns

KINDS = [
    pytest.param("plexus", id="plexus"),
    pytest.param("wireguard-go", id="harness-wggo", marks=pytest.mark.harness),
]
BIG_TRANSFER = 200 * 1000 * 1000


@pytest.fixture(scope="module", params=KINDS)
def pair(request, plexus_bin):
    """Two running nodes (a, b) of one kind, each knowing the other's endpoint."""
    lab = netns.Lab(plexus_bin)
    try:
        a, b = lab.pair(request.param, request.param)
        netns.wait_tunnel(a, b)
        yield a, b
    finally:
        lab.close()


def plexus_only(node):
    if node.kind != "plexus":
        pytest.skip("checks plexus's own interface")


# ------------------------------------------------------------------ keys


def test_genkey_and_pubkey_match_wg(require_plexus):
    priv = netns.run([require_plexus, "genkey"]).stdout.strip()
    assert len(base64.b64decode(priv)) == 32
    pub = netns.run([require_plexus, "pubkey"], input=(priv + "\n").encode()).stdout.strip()
    wg_pub = netns.run(["wg", "pubkey"], input=(priv + "\n").encode()).stdout.strip()
    assert pub == wg_pub
    wg_priv, wg_pub = netns.wg_genkey()
    assert netns.run([require_plexus, "pubkey"],
                     input=(wg_priv + "\n").encode()).stdout.strip() == wg_pub


# ------------------------------------------------------------------ traffic


@pytest.mark.parametrize("family", ["ipv6", "ipv4"])
def test_ping_both_ways(pair, family):
    a, b = pair
    for src, dst in ((a, b), (b, a)):
        addr = dst.inner_v6 if family == "ipv6" else dst.inner_v4
        sent, received = src.ns.ping(addr, count=5, interval=0.1)
        assert received == sent, f"{src.label} -> {addr}: {received}/{sent} replies"


def test_ping_large_packets(pair):
    """Pings that fill the tunnel MTU (1420 - 28 bytes of headers) get through."""
    a, b = pair
    sent, received = a.ns.ping(b.inner_v4, count=3, size=netns.TUN_MTU - 28)
    assert received == sent


def test_tcp_transfer_200mb_checksum(pair):
    a, b = pair
    sent, received = netns.tcp_transfer(a.ns, b.ns, b.inner_v6, BIG_TRANSFER, timeout=600)
    assert received["bytes"] == BIG_TRANSFER
    assert received["sha256"] == sent["sha256"]
    print(f"200 MB a->b in {received['seconds']} s "
          f"({BIG_TRANSFER * 8 / 1e6 / max(received['seconds'], 1e-3):.0f} Mbit/s)")


def test_tcp_transfer_reverse_ipv4_checksum(pair):
    a, b = pair
    nbytes = 50 * 1000 * 1000
    sent, received = netns.tcp_transfer(b.ns, a.ns, a.inner_v4, nbytes)
    assert received["bytes"] == nbytes
    assert received["sha256"] == sent["sha256"]


# ------------------------------------------------------------------ status


def test_status_json(pair):
    a, b = pair
    plexus_only(a)
    a.ns.ping(b.inner_v6, count=2)
    st = a.status()
    iface = st["interface"]
    assert iface["name"] == a.tun
    assert iface["public_key"] == a.public_key
    assert iface["listen_port"] == a.port
    assert iface["mtu"] == netns.TUN_MTU
    assert f"{a.inner_v6}/64" in iface["addresses"]
    assert f"{a.inner_v4}/24" in iface["addresses"]
    peers = {p["public_key"]: p for p in st["peers"]}
    assert list(peers) == [b.public_key]
    p = peers[b.public_key]
    assert p["endpoint"] == b.endpoint()
    assert sorted(p["allowed_prefixes"]) == sorted(netns.host_prefixes(b.inner_v6, b.inner_v4))
    now = time.time()
    assert now - 180 <= p["last_handshake_unix"] <= now + 5, p
    assert p["rx_bytes"] > 0 and p["tx_bytes"] > 0, p
    assert isinstance(p["state"], str) and p["state"]
    assert "persistent_keepalive" in p
    assert isinstance(st["drops"], dict)
    assert isinstance(st["counters"], dict)


def test_status_byte_counters_grow(pair):
    a, b = pair
    plexus_only(a)
    before = a.peer_status(b.public_key)
    a.ns.ping(b.inner_v4, count=5, interval=0.05, size=1000)
    after = a.peer_status(b.public_key)
    assert after["tx_bytes"] >= before["tx_bytes"] + 5 * 1000
    assert after["rx_bytes"] >= before["rx_bytes"] + 5 * 1000


def test_status_text(pair):
    a, b = pair
    plexus_only(a)
    p = a.status_raw(json_output=False)
    assert p.returncode == 0
    text = p.stdout
    assert text.strip(), "empty `plexus status` output"
    assert a.tun in text, text
    assert b.public_key in text, text


def test_status_without_daemon_fails_cleanly(require_plexus, tmp_path):
    p = netns.run([require_plexus, "status", "--socket", str(tmp_path / "none.sock")],
                  check=False, timeout=20)
    assert p.returncode != 0
    assert "none.sock" in p.stdout + p.stderr


# ------------------------------------------------------------------ lifecycle


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_removes_tun_and_socket(lab, require_plexus, sig):
    a, b = lab.pair("plexus", "plexus")
    netns.wait_tunnel(a, b)
    assert a.ns.link_exists(a.tun) and a.socket.exists()
    rc = a.stop(sig)
    assert rc == 0, f"exit code {rc} after {sig.name}"
    assert not a.ns.link_exists(a.tun), "TUN device still present after exit"
    assert not a.socket.exists(), "control socket still present after exit"
    # the other node is unaffected and its peer simply unreachable
    assert b.alive()
    assert b.status()["peers"][0]["public_key"] == a.public_key


def test_restart_same_config(lab, require_plexus):
    a, b = lab.pair("plexus", "plexus")
    netns.wait_tunnel(a, b)
    a.restart()
    netns.wait_tunnel(a, b, timeout=30)
    netns.wait_tunnel(b, a, timeout=30)


# ------------------------------------------------------------------ config errors


def good_config_lines(node) -> list[str]:
    return node.config_text().splitlines()


def run_node_expect_failure(node, text: str) -> subprocess.CompletedProcess:
    node.config_path.write_text(text)
    p = node.ns.run([node.binary, "node", "--config", str(node.config_path)],
                    check=False, timeout=20)
    assert p.returncode != 0, f"node accepted a bad config:\n{text}"
    assert not node.ns.link_exists(node.tun), "a refused config still created the TUN"
    return p


def line_of(lines: list[str], prefix: str) -> int:
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix))


@pytest.mark.parametrize("bad", [
    ("mtu", "mtu = 99999"),
    ("listen_port", "listen_port = 70000"),
    ("addresses", 'addresses = ["fd00:1::1/129"]'),
], ids=lambda bad: bad[0])
def test_bad_value_names_file_and_line(lab, require_plexus, bad):
    key, replacement = bad
    a, b = lab.node("plexus", 0), lab.node("plexus", 1)
    netns.connect(a, b)
    lines = good_config_lines(a)
    n = line_of(lines, key + " =")
    lines[n - 1] = replacement
    p = run_node_expect_failure(a, "\n".join(lines) + "\n")
    message = p.stdout + p.stderr
    assert re.search(rf"{re.escape(a.config_path.name)}:{n}\b", message), \
        f"expected '{a.config_path.name}:{n}' in:\n{message}"


def test_bad_peer_key_names_file_and_line(lab, require_plexus):
    a, b = lab.node("plexus", 0), lab.node("plexus", 1)
    netns.connect(a, b)
    lines = good_config_lines(a)
    n = line_of(lines, "public_key =")
    lines[n - 1] = 'public_key = "not-a-key"'
    p = run_node_expect_failure(a, "\n".join(lines) + "\n")
    assert re.search(rf"{re.escape(a.config_path.name)}:{n}\b", p.stdout + p.stderr), \
        p.stdout + p.stderr


def test_toml_syntax_error_names_file_and_line(lab, require_plexus):
    a = lab.node("plexus", 0)
    lines = good_config_lines(a)
    n = line_of(lines, "tun =")
    lines[n - 1] = 'tun = "plx0'
    p = run_node_expect_failure(a, "\n".join(lines) + "\n")
    assert re.search(rf"{re.escape(a.config_path.name)}:{n}\b", p.stdout + p.stderr), \
        p.stdout + p.stderr


def test_missing_config_file(lab, require_plexus):
    a = lab.node("plexus", 0)
    p = a.ns.run([a.binary, "node", "--config", str(a.workdir / "absent.toml")],
                 check=False, timeout=20)
    assert p.returncode != 0
    assert "absent.toml" in p.stdout + p.stderr
