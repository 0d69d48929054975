"""Identity and the registry, node side (DESIGN.md §2.3, §2.7): nodes that joined
with `plexus join` and run `plexus node --config <state dir>/node.toml`.

Layout (one run of a test)::

                 plxt-P-N-hub: bridge br0 10.113.0.254/24 fd13::fe/64
                 `plexus registry serve` (one or two registries, own ports)
                /          |           |            \\
     plxt-P-N-node1   plxt-P-N-node2   ...   (ul0 10.113.0.K/24 fd13::K/64)
     plexus node      plexus node             TUN plxK, overlay address from the
                                              registry (fdXX:...::1/64, 10.77.x.y/32)

Every node joins by token in its own namespace, is started, and the next one
joins only once the registry has its heartbeat: a joiner's node.toml lists the
earlier nodes as peers, while the earlier nodes learn of it only when it
connects (admitted, then authorised by its certificate over link control).
The one change made to the written config is `control_socket` (a path in the
test's scratch directory instead of /run/plexus/<tun>.sock, shared by every
namespace).

  - four nodes: every node pings every other (IPv6 and IPv4), and each sees all
    the others authorised under their certificate names;
  - a node with a certificate from another CA (a second registry with the same
    network name, prefixes and layout) is refused both ways: no ping, no route,
    configured ends show it "rejected" with a foreign-CA reason;
  - `plexus registry revoke node4`: every other node cuts node4 within 30 s
    (printed); pings to and from node4 fail, the rest still ping;
  - registry killed: every node notices, the mesh keeps routing; a restarted
    node is reachable again, and holds its links authorised, within a bound
    (printed): node1, whose config lists no peer (the others must reconnect), and
    node4, which lists the three others.

Only processes started here are stopped, by PID; namespaces are ours (plxt-).
PLXT_KEEP=1 keeps the scratch directory (configs, state dirs, logs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from typing import Optional

import pytest

import netns
from netns import Daemon, Fatal, Namespace, wait_until

HUB_V4 = "10.113.0.254"
HUB_V6 = "fd13::fe"
NETWORK_V4 = "10.77.0.0/16"
FAMILIES = ("ipv6", "ipv4")
CONVERGE_TIMEOUT = 60      # s for a fresh mesh to answer every ping
REVOCATION_LIMIT = 30      # s from `registry revoke` until every other node cut the node
RESTART_LIMIT = 45         # s from restarting a node until pings to and from it work
REGISTRY_INTERVAL = 10     # s: the node's default [identity] registry_interval
FOREIGN_CA_REASONS = ("wrong-ca",)   # same CA name, other key: no issuer found


def random_ula48() -> str:
    b = os.urandom(5)
    return "fd{:02x}:{:02x}{:02x}:{:02x}{:02x}::/48".format(*b)


# ------------------------------------------------------------------ the lab


class Registry:
    """`plexus registry init` in the scratch dir; `serve` in the hub namespace."""

    def __init__(self, lab: "IdentityLab", label: str, name: str, prefix: str):
        self.lab = lab
        self.label = label
        self.dir = lab.workdir / label
        self.log_path = lab.workdir / f"{label}.log"
        self.daemon: Optional[Daemon] = None
        self.port: Optional[int] = None
        lab.plexus("registry", "init", "--name", name, "--dir", str(self.dir), "--prefix", prefix,
                   "--ipv4", NETWORK_V4)

    def admin(self, *args: str) -> subprocess.CompletedProcess:
        return self.lab.plexus("registry", *args, "--dir", str(self.dir))

    def start(self) -> None:
        serve_file = self.dir / "serve.json"
        if serve_file.exists():
            serve_file.unlink()
        self.daemon = Daemon(self.lab.hub, self.label,
                             [self.lab.bin, "registry", "serve", "--dir", str(self.dir),
                              "--listen", HUB_V4, "--port", "0", "--host", HUB_V4],
                             self.log_path)

        def serving() -> bool:
            if not self.daemon.alive():
                raise Fatal(f"{self.label} exited:\n{self.daemon.log_text()[-4000:]}")
            return serve_file.exists()
        wait_until(serving, 15, f"{self.label} serves")
        self.port = json.loads(serve_file.read_text())["port"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.daemon:
            self.daemon.stop(sig)

    def token(self, uses: int) -> str:
        out = self.admin("token", "create", "--uses", str(uses), "--json").stdout
        return json.loads(out)["url"]

    def nodes(self) -> dict[str, dict]:
        return {n["name"]: n for n in json.loads(self.admin("nodes", "--json").stdout)}


class JoinedNode:
    """A node namespace, its `plexus join` state dir and its `plexus node` process."""

    def __init__(self, lab: "IdentityLab", index: int, name: str):
        self.lab = lab
        self.index = index
        self.name = name
        self.label = name
        self.tun = f"plx{index}"
        self.ns: Namespace = netns.create_namespace(name, lab.ident)
        lab.namespaces.append(self.ns)
        self.underlay_v4 = f"10.113.0.{index}"
        self.underlay_v6 = f"fd13::{index:x}"
        hub_end = f"v{index}-{lab.ident}"[:15]
        lab.hub.ip("link", "add", hub_end, "type", "veth", "peer", "name", "ul0",
                   "netns", self.ns.name)
        lab.hub.ip("link", "set", hub_end, "master", "br0", "up")
        self.ns.ip("addr", "add", f"{self.underlay_v4}/24", "dev", "ul0")
        self.ns.ip("addr", "add", f"{self.underlay_v6}/64", "dev", "ul0", "nodad")
        self.ns.ip("link", "set", "ul0", "up")
        wait_until(lambda: self.ns.ping_ok(HUB_V4), 10, f"{name}: underlay to the hub")
        self.dir = lab.workdir / f"state-{name}"
        self.config_path = self.dir / "node.toml"
        self.socket = lab.workdir / f"{name}.sock"
        self.log_path = lab.workdir / f"{name}.log"
        self.daemon: Optional[Daemon] = None
        self.addr_v6 = self.addr_v4 = self.prefix_v6 = None
        self.public_key: Optional[str] = None

    def __repr__(self) -> str:
        return f"JoinedNode({self.name})"

    def addr(self, family: str) -> str:
        return self.addr_v6 if family == "ipv6" else self.addr_v4

    def join(self, url: str) -> str:
        """`plexus join` inside the namespace; returns the node.toml text it wrote."""
        p = self.ns.run([self.lab.bin, "join", url, "--dir", str(self.dir), "--name", self.name,
                         "--tun", self.tun], check=False, timeout=60)
        assert p.returncode == 0, f"{self.name}: plexus join failed:\n{p.stdout}{p.stderr}"
        fields = dict(re.findall(r"^(\w+):\s+(\S+)$", p.stdout, re.M))
        self.addr_v6 = fields["address"]
        self.prefix_v6 = fields["prefix"]
        self.addr_v4 = fields["ipv4"].split("/")[0]
        private = (self.dir / "wireguard.key").read_text().strip()
        self.public_key = netns.run(["wg", "pubkey"],
                                    input=(private + "\n").encode()).stdout.strip()
        text = self.config_path.read_text()
        assert f'[identity]\ndir = "{self.dir}"\n' in text, f"no [identity] in\n{text}"
        # our own control socket path; everything else as `plexus join` wrote it
        text = text.replace("[interface]\n",
                            f'[interface]\ncontrol_socket = "{self.socket}"\n', 1)
        self.config_path.write_text(text)
        return text

    def add_peer(self, other: "JoinedNode") -> None:
        """Appends `other` to node.toml as a mesh peer (key and endpoint)."""
        with open(self.config_path, "a") as f:
            f.write(f'\n# added by the test\n[[peer]]\npublic_key = "{other.public_key}"\n'
                    f'endpoint = "{other.underlay_v4}:51820"\n')

    def configured_peers(self) -> list[str]:
        return re.findall(r'^public_key = "(\S+)"$', self.config_path.read_text(), re.M)

    # -------------------------------------------------------------- process

    def start(self, wait: float = 15) -> None:
        self.daemon = Daemon(self.ns, self.name,
                             [self.lab.bin, "node", "--config", str(self.config_path),
                              "--log-level", "debug"], self.log_path)

        def started() -> bool:
            if not self.alive():
                raise Fatal(f"{self.name} exited with {self.daemon.proc.returncode}:\n"
                            f"{self.daemon.log_text()[-4000:]}")
            return self.socket.exists() and self.query("status", check=False).returncode == 0
        wait_until(started, wait, f"{self.name}: control socket answers")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.daemon:
            self.daemon.stop(sig)

    def alive(self) -> bool:
        return self.daemon is not None and self.daemon.alive()

    def query(self, what: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ns.run([self.lab.bin, what, "--json", "--socket", str(self.socket)],
                           check=check, timeout=20)

    def status(self) -> dict:
        return json.loads(self.query("status").stdout)

    def routes(self) -> dict:
        return json.loads(self.query("routes").stdout)

    def peers_by_key(self) -> dict[str, dict]:
        return {p["public_key"]: p for p in self.status().get("peers", [])}

    def log_text(self) -> str:
        return self.daemon.log_text() if self.daemon else ""

    # -------------------------------------------------------------- traffic

    def ping_ok(self, dest: "JoinedNode", family: str, wait: float = 2) -> bool:
        return self.ping(dest, family, count=1, wait=wait)[1] == 1

    def ping(self, dest: "JoinedNode", family: str, count: int = 3,
             interval: float = 0.2, wait: float = 1) -> tuple[int, int]:
        return self.ns.ping(dest.addr(family), count=count, wait=wait, interval=interval,
                            source=self.addr(family))

    def diagnostics(self) -> str:
        out = [f"--- {self.name} ({self.ns.name}) key {self.public_key} "
               f"{self.addr_v6} {self.addr_v4}"]
        for what in ("status", "routes"):
            p = self.query(what, check=False) if self.alive() else None
            out.append(f"$ plexus {what} --json\n" +
                       (p.stdout + p.stderr if p else "(not running)"))
        return "\n".join(out)


class IdentityLab:
    """The hub namespace (bridge, registries) and the joined nodes."""

    def __init__(self, binary: str):
        self.bin = binary
        self.ident = netns._next_id()
        self.workdir = netns.short_tmpdir()
        self.namespaces: list[Namespace] = []
        self.registries: list[Registry] = []
        self.nodes: list[JoinedNode] = []
        try:
            self.hub = netns.create_namespace("hub", self.ident)
            self.namespaces.append(self.hub)
            self.hub.ip("link", "add", "br0", "type", "bridge")
            self.hub.ip("addr", "add", f"{HUB_V4}/24", "dev", "br0")
            self.hub.ip("addr", "add", f"{HUB_V6}/64", "dev", "br0", "nodad")
            self.hub.ip("link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise

    def plexus(self, *args: str) -> subprocess.CompletedProcess:
        return netns.run([self.bin, *args], timeout=60)

    def registry(self, label: str = "registry", name: str = "testnet",
                 prefix: Optional[str] = None) -> Registry:
        reg = Registry(self, label, name, prefix or random_ula48())
        self.registries.append(reg)
        reg.start()
        return reg

    def node(self, name: str) -> JoinedNode:
        n = JoinedNode(self, len(self.nodes) + 1, name)
        self.nodes.append(n)
        return n

    def join_and_start(self, reg: Registry, url: str, name: str) -> JoinedNode:
        """Joins a new node, starts it, and waits until the registry has its heartbeat
        (so the next joiner's bootstrap list holds it)."""
        n = self.node(name)
        n.join(url)
        n.start()
        try:
            wait_until(lambda: reg.nodes()[name]["last_seen"] is not None, 20,
                       f"{reg.label} has a heartbeat from {name}", 0.2)
        except netns.TimeoutExpired as e:
            raise AssertionError(f"{e}\n{n.log_text()[-3000:]}\n{reg.daemon.log_text()[-2000:]}")
        return n

    def diagnostics(self) -> str:
        return netns.diagnostics_of(self.nodes)

    def close(self, keep_files: bool = False) -> None:
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                print(f"warning: stopping {n.name}: {e!r}")
        for r in self.registries:
            try:
                r.stop()
            except Exception as e:  # noqa: BLE001
                print(f"warning: stopping {r.label}: {e!r}")
        for ns in reversed(self.namespaces):
            netns.delete_namespace(ns)
        if keep_files or os.environ.get("PLXT_KEEP"):
            print(f"identity lab files kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture
def lab(require_plexus, request):
    lab = IdentityLab(require_plexus)
    yield lab
    lab.close(keep_files=netns.failed_in(request))


def fail_with(lab: IdentityLab, message: str):
    pytest.fail(f"{message}\n\n{lab.diagnostics()}", pytrace=False)


def mesh(lab: IdentityLab, count: int) -> tuple[Registry, list[JoinedNode]]:
    """A registry and `count` nodes joined and started one after the other."""
    reg = lab.registry()
    url = reg.token(count)
    nodes = []
    for k in range(1, count + 1):
        n = lab.join_and_start(reg, url, f"node{k}")
        assert len(n.configured_peers()) == k - 1, \
            f"{n.name}: node.toml lists {len(n.configured_peers())} peers, expected the " \
            f"{k - 1} nodes started before it:\n{n.config_path.read_text()}"
        nodes.append(n)
    return reg, nodes


def all_pairs(nodes: list[JoinedNode]) -> list[tuple[JoinedNode, JoinedNode, str]]:
    return [(s, d, f) for f in FAMILIES for s in nodes for d in nodes if s is not d]


def wait_pings(lab: IdentityLab, pairs, timeout: float) -> dict:
    """Pings each (src, dst, family) once per round until each answered once or the
    timeout. Returns {pair: seconds until it first answered}."""
    def check():
        dead = [n.name for n in lab.nodes if n.daemon and not n.alive()]
        if dead:
            fail_with(lab, f"nodes exited: {dead}")
    return netns.wait_pings(pairs, time.monotonic() + timeout, check, wait=1, pause=0.3)


def require_pings(lab: IdentityLab, pairs, timeout: float, what: str) -> float:
    t0 = time.monotonic()
    answered = wait_pings(lab, pairs, timeout)
    missing = [f"{s.name}->{d.name} {f}" for s, d, f in pairs if (s, d, f) not in answered]
    if missing:
        fail_with(lab, f"{what}: {len(missing)}/{len(pairs)} pings never answered within "
                       f"{timeout}s: {', '.join(missing)}")
    return time.monotonic() - t0


def no_ping_passes(pairs) -> list[str]:
    """Pairs through which any of 3 pings was answered."""
    return [f"{s.name}->{d.name} {f}: {r}/{n} answered" for s, d, f in pairs
            for n, r in [s.ping(d, f, count=3)] if r > 0]


def authorisation(node: JoinedNode, key: str) -> Optional[dict]:
    """node's view of the peer with `key`: its authorisation object, or None when the
    peer is not in its status (an admitted peer is forgotten once refused)."""
    p = node.peers_by_key().get(key)
    return None if p is None else (p.get("authorisation") or {})


def rejections(n: JoinedNode) -> int:
    """Certificates n has refused (identity counters)."""
    return int(((n.status().get("identity") or {}).get("counters") or {}).get("rejections", 0))


# ------------------------------------------------------------------ tests


def test_joined_nodes_ping_every_other(lab):
    """Four nodes join one after the other; each lists only the earlier ones. All
    12 ordered pairs ping over IPv6 and IPv4; every node sees the other three as
    authorised peers under their certificate names."""
    reg, nodes = mesh(lab, 4)
    took = require_pings(lab, all_pairs(nodes), CONVERGE_TIMEOUT, "four joined nodes")
    print(f"4 joined nodes: all {len(all_pairs(nodes))} pings answered {took:.1f}s after "
          f"the last node started")
    problems = []
    for n in nodes:
        st = n.status()
        ident = st.get("identity") or {}
        if ident.get("name") != n.name or ident.get("network") != "testnet":
            problems.append(f"{n.name}: identity block {ident}")
        if not (ident.get("registry") or {}).get("reachable"):
            problems.append(f"{n.name}: registry not reachable: {ident.get('registry')}")
        peers = {p["public_key"]: p for p in st.get("peers", [])}
        for other in nodes:
            if other is n:
                continue
            a = (peers.get(other.public_key) or {}).get("authorisation")
            if not a or a.get("state") != "authorised" or a.get("name") != other.name:
                problems.append(f"{n.name}: peer {other.name}: authorisation {a}")
    if problems:
        fail_with(lab, "\n".join(problems))
    for s, d, f in all_pairs(nodes):
        sent, received = s.ping(d, f, count=3)
        if received != sent:
            problems.append(f"{s.name}->{d.name} {f}: {received}/{sent}")
    if problems:
        fail_with(lab, f"loss after convergence: {problems}")


def test_foreign_ca_is_refused(lab):
    """Network A: a1, a2. Network B: same name, same prefixes, its own CA; its node
    b1 (prefix distinct from A's nodes') lists a1 and a2 as peers, and a2 lists b1.
    a1 <-> a2 ping; nothing passes between b1 and A, no route crosses, and each
    configured end shows the other "rejected" for a foreign CA."""
    prefix = random_ula48()
    reg_a = lab.registry("registry-a", "testnet", prefix)
    reg_b = lab.registry("registry-b", "testnet", prefix)
    url_a = reg_a.token(2)
    a1 = lab.join_and_start(reg_a, url_a, "a1")
    # b1 joins B third (two decoys first, never started), so that its prefixes are not
    # a1's or a2's
    url_b = reg_b.token(3)
    b1 = lab.node("b1")
    for decoy in ("decoy1", "decoy2"):
        p = b1.ns.run([lab.bin, "join", url_b, "--dir", str(lab.workdir / f"state-{decoy}"),
                       "--name", decoy], check=False)
        assert p.returncode == 0, p.stderr
    b1.join(url_b)
    a2 = lab.node("a2")
    a2.join(url_a)
    taken = {a1.prefix_v6, a2.prefix_v6}
    assert b1.prefix_v6 not in taken and b1.addr_v4 not in {a1.addr_v4, a2.addr_v4}, \
        (b1.prefix_v6, taken)
    assert b1.prefix_v6.split(":")[:3] == a1.prefix_v6.split(":")[:3], \
        "the two networks share their /48"
    a2.add_peer(b1)
    b1.add_peer(a1)
    b1.add_peer(a2)
    a2.start()
    b1.start()
    require_pings(lab, [(a1, a2, f) for f in FAMILIES] + [(a2, a1, f) for f in FAMILIES],
                  CONVERGE_TIMEOUT, "a1 <-> a2 (same network)")

    def refused() -> bool:
        views = {"a2 sees b1": authorisation(a2, b1.public_key),
                 "b1 sees a1": authorisation(b1, a1.public_key),
                 "b1 sees a2": authorisation(b1, a2.public_key)}
        return all(v and v.get("state") == "rejected" for v in views.values()) and views
    try:
        views = wait_until(refused, 30, "the configured ends reject the foreign peer", 0.3)
    except netns.TimeoutExpired as e:
        fail_with(lab, str(e))
    print(f"foreign CA: {json.dumps(views)}")
    problems = [f"{k}: reason {v.get('reason')}, expected one of {FOREIGN_CA_REASONS}"
                for k, v in views.items() if v.get("reason") not in FOREIGN_CA_REASONS]
    # a1 never listed b1: it admitted b1's handshake, refused its certificate and forgot it
    try:
        wait_until(lambda: rejections(a1) >= 1, 30, "a1 refuses b1's certificate")
    except netns.TimeoutExpired as e:
        problems.append(f"{e}: identity block {a1.status().get('identity')}")
    a = authorisation(a1, b1.public_key)
    if a is not None and a.get("state") != "rejected":
        problems.append(f"a1 holds b1 as {a}")
    if f"to {b1.public_key} refused:" not in a1.log_text():
        problems.append("a1's log has no refusal of b1's key")
    pairs = [(s, d, f) for f in FAMILIES for s, d in
             ((b1, a1), (b1, a2), (a1, b1), (a2, b1))]
    problems += no_ping_passes(pairs)
    for n, other in ((a1, b1), (a2, b1), (b1, a1), (b1, a2)):
        leaked = [r for r in n.routes().get("routes", [])
                  if r.get("prefix") == other.prefix_v6 and not r.get("local")]
        if leaked:
            problems.append(f"{n.name} has a route to {other.name}'s {other.prefix_v6}: {leaked}")
    if problems:
        fail_with(lab, "\n".join(problems))


def test_revocation_cuts_the_node(lab):
    """Five nodes (node5 lists node4 in its config; node1-3 admitted it). After
    `plexus registry revoke node4` every other node cuts node4 within 30 s:
    configured ends show it rejected ("revoked"), the others have refused and
    forgotten it. Pings to and from node4 fail; the others still ping."""
    reg, nodes = mesh(lab, 5)
    node4 = nodes[3]
    others = [n for n in nodes if n is not node4]
    require_pings(lab, all_pairs(nodes), CONVERGE_TIMEOUT, "five joined nodes")
    before = {n.name: (n.status().get("identity") or {}).get("crl_version") for n in nodes}

    t0 = time.monotonic()
    reg.admin("revoke", "node4")
    cut_after: dict[str, float] = {}

    def is_cut(n: JoinedNode) -> bool:
        a = authorisation(n, node4.public_key)
        configured = node4.public_key in n.configured_peers()
        if configured:
            return bool(a) and a.get("state") == "rejected" and a.get("reason") == "revoked"
        return (a is None or (a.get("state") == "rejected" and a.get("reason") == "revoked")) \
            and f"to {node4.public_key} refused: revoked" in n.log_text()

    def all_cut() -> bool:
        for n in others:
            if n.name not in cut_after and is_cut(n):
                cut_after[n.name] = time.monotonic() - t0
        return len(cut_after) == len(others)
    try:
        wait_until(all_cut, REVOCATION_LIMIT + 15, "every node cuts node4", 0.25)
    except netns.TimeoutExpired as e:
        fail_with(lab, f"{e}; cut so far: {cut_after}")
    after = {n.name: (n.status().get("identity") or {}).get("crl_version") for n in nodes}
    worst = max(cut_after.values())
    print(f"revocation of node4 reached every node after {worst:.1f}s "
          f"(registry_interval {REGISTRY_INTERVAL}s): "
          + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(cut_after.items()))
          + f"; CRL versions before {before}, after {after}")
    problems = []
    if worst > REVOCATION_LIMIT:
        problems.append(f"the last node cut node4 after {worst:.1f}s > {REVOCATION_LIMIT}s")
    for n in others:
        if not after[n.name] or after[n.name] <= (before[n.name] or 0):
            problems.append(f"{n.name}: crl_version {before[n.name]} -> {after[n.name]}")
    pairs = [(s, d, f) for f in FAMILIES for o in others for s, d in ((node4, o), (o, node4))]
    problems += no_ping_passes(pairs)
    for n in others:
        if any(r.get("prefix") == node4.prefix_v6 for r in n.routes().get("routes", [])):
            problems.append(f"{n.name} still has a route to node4's {node4.prefix_v6}")
    if problems:
        fail_with(lab, "\n".join(problems))
    require_pings(lab, all_pairs(others), 30, "the nodes left")


def restart_and_measure(lab: IdentityLab, nodes: list[JoinedNode], node: JoinedNode) -> None:
    """Stops `node`, starts it again with the same config, and waits until pings to
    and from it answer and it holds its links to every other node as authorised, each
    within RESTART_LIMIT of its start. Prints both times."""
    others = [o for o in nodes if o is not node]
    node.stop()
    t_start = time.monotonic()
    node.start()
    pairs = [(s, d, f) for f in FAMILIES for o in others for s, d in ((node, o), (o, node))]
    require_pings(lab, pairs, RESTART_LIMIT, f"pings to and from the restarted {node.name}")
    took_pings = time.monotonic() - t_start
    states: dict[str, Optional[str]] = {}

    def links_back() -> bool:
        peers = node.peers_by_key()
        for o in others:
            states[o.name] = ((peers.get(o.public_key) or {}).get("authorisation") or {}) \
                .get("state")
        return all(s == "authorised" for s in states.values())
    try:
        wait_until(links_back, max(RESTART_LIMIT - took_pings, 10),
                   f"{node.name} authorises its links to the others again", 0.25)
    except netns.TimeoutExpired as e:
        fail_with(lab, f"{e}: {node.name}'s peers {states} "
                       f"{time.monotonic() - t_start:.1f}s after its start")
    took_links = time.monotonic() - t_start
    print(f"restarted {node.name} ({len(node.configured_peers())} peers in its config, registry "
          f"down): pings to and from it all answered {took_pings:.1f}s after its start, its "
          f"links all authorised after {took_links:.1f}s")
    if took_links > RESTART_LIMIT:
        fail_with(lab, f"{node.name}'s links came back after {took_links:.1f}s > "
                       f"{RESTART_LIMIT}s")


def test_mesh_survives_the_registry_and_a_restart(lab):
    """Four nodes; the registry is killed (SIGKILL). Every node reports it
    unreachable and all pairs still ping. Then, still without a registry, node1
    (whose config lists no peer: the others connect to it) and node4 (which lists
    the three others) are each stopped and started again with the same config:
    pings to and from it, and its authorised links, come back within
    RESTART_LIMIT (printed)."""
    reg, nodes = mesh(lab, 4)
    require_pings(lab, all_pairs(nodes), CONVERGE_TIMEOUT, "four joined nodes")
    reg.stop(signal.SIGKILL)
    t_kill = time.monotonic()

    def all_notice() -> bool:
        return all((n.status().get("identity") or {}).get("registry", {}).get("reachable")
                   is False for n in nodes)
    try:
        wait_until(all_notice, 2 * REGISTRY_INTERVAL + 10, "every node sees the registry down",
                   0.5)
    except netns.TimeoutExpired as e:
        fail_with(lab, str(e))
    print(f"registry killed: every node reported it unreachable after "
          f"{time.monotonic() - t_kill:.1f}s")
    problems = [f"{s.name}->{d.name} {f}: {r}/{c}" for s, d, f in all_pairs(nodes)
                for c, r in [s.ping(d, f, count=2)] if r != c]
    if problems:
        fail_with(lab, f"loss with the registry down: {problems}")

    for node in (nodes[0], nodes[3]):
        restart_and_measure(lab, nodes, node)
    require_pings(lab, all_pairs(nodes), 30, "all pairs after the restarts")
