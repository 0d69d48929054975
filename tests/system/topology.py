"""Multi-node topologies for the routing system tests.

One namespace per node, one veth pair per link, each link with its own underlay
subnets (link L: ``10.112.L.1/30`` - ``10.112.L.2/30`` and ``fd12:0:0:L::1/64`` -
``fd12:0:0:L::2/64``; the link's ``family`` says which one the WireGuard endpoints
use). A node with k links has k underlay interfaces, named ``u-<peer name>``.

Node N's overlay addresses are ``fd00:1:0:N::1/64`` and ``10.42.N.1/24``. Two kinds:

* ``PlexusMeshNode``: one ``plexus node`` whose ``[[peer]]`` entries have no
  ``allowed_prefixes`` (mesh links routed by Babel), one UDP port for every link;
* ``BabeldNode``: a reference router made of standard parts: one wireguard-go
  interface per link (one peer, allowed-ips ``::/0, 0.0.0.0/0``, a link-local
  address ``fe80::N:k/64``), the overlay addresses on a dummy interface, and a
  real babeld over all its wg interfaces, redistributing the node's /64 and /24.
  It is the far end of the babeld interop test, and a whole topology of them
  validates this harness without plexus (``-m harness``).

Everything is created inside namespaces named ``plxt-<pytest pid>-<n>-<node>``
(see netns.py); ``Topology.close()`` stops every daemon by PID and removes the
namespaces. Links can be cut silently with nftables (``Link.cut``): UDP on that
veth is dropped in both directions inside one namespace, the interface stays up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import netns
from netns import Daemon, Fatal, Namespace, wait_until

WG_BASE_PORT = 51820
BABEL_PORT = 6696
BABELD_LOCAL_PORT = 33123

# [babel] options every PlexusMeshNode writes (a test adds its own with babel={...})
DEFAULT_BABEL: dict = {}  # plexus's own defaults unless a test passes babel={...}


def overlay_v6(n: int) -> str:
    return f"fd00:1:0:{n:x}::1"


def overlay_v4(n: int) -> str:
    return f"10.42.{n}.1"


def prefix_v6(n: int) -> str:
    return f"fd00:1:0:{n:x}::/64"


def prefix_v4(n: int) -> str:
    return f"10.42.{n}.0/24"


# ------------------------------------------------------------------ links


class Link:
    """A veth pair between two nodes, with its own underlay subnets."""

    def __init__(self, index: int, a: "MeshNode", b: "MeshNode", family: str):
        if family not in ("ipv4", "ipv6"):
            raise ValueError(family)
        self.index = index
        self.a, self.b = a, b
        self.family = family
        self.ifname = {a: f"u-{b.name}", b: f"u-{a.name}"}
        self.v4 = {a: f"10.112.{index}.1", b: f"10.112.{index}.2"}
        self.v6 = {a: f"fd12:0:0:{index:x}::1", b: f"fd12:0:0:{index:x}::2"}
        self.cut_in: Optional[MeshNode] = None
        a.ns.ip("link", "add", self.ifname[a], "type", "veth",
                "peer", "name", self.ifname[b], "netns", b.ns.name)
        for n in (a, b):
            n.ns.ip("addr", "add", f"{self.v4[n]}/30", "dev", self.ifname[n])
            n.ns.ip("addr", "add", f"{self.v6[n]}/64", "dev", self.ifname[n], "nodad")
            n.ns.ip("link", "set", self.ifname[n], "up")
        a.links.append(self)
        b.links.append(self)

    def __repr__(self) -> str:
        return f"Link({self.a.name}-{self.b.name}, {self.family})"

    def other(self, n: "MeshNode") -> "MeshNode":
        return self.b if n is self.a else self.a

    def underlay_addr(self, n: "MeshNode") -> str:
        return self.v6[n] if self.family == "ipv6" else self.v4[n]

    def check_underlay(self, timeout: float = 10) -> None:
        for fam in (self.v4, self.v6):
            wait_until(lambda: self.a.ns.ping_ok(fam[self.b]), timeout,
                       f"underlay {self.a.name} -> {self.b.name} {fam[self.b]}")

    # -------------------------------------------------------------- silent cut

    def _table(self, n: "MeshNode") -> str:
        return "plxt_cut_" + re.sub(r"[^A-Za-z0-9_]", "_", self.ifname[n])

    def cut(self, side: Optional["MeshNode"] = None) -> None:
        """Drops all UDP on this link's veth, both directions, in side's namespace
        (default a). The interface stays up: the link goes silent."""
        side = side or self.a
        if self.cut_in is not None:
            raise AssertionError(f"{self} is already cut")
        ifn = self.ifname[side]
        rules = (f"table inet {self._table(side)} {{\n"
                 f"  chain in {{ type filter hook input priority -10; policy accept;\n"
                 f"    iifname \"{ifn}\" meta l4proto udp drop; }}\n"
                 f"  chain out {{ type filter hook output priority -10; policy accept;\n"
                 f"    oifname \"{ifn}\" meta l4proto udp drop; }}\n"
                 f"}}\n")
        side.ns.run(["nft", "-f", "-"], input=rules.encode())
        self.cut_in = side

    def restore(self) -> None:
        if self.cut_in is None:
            return
        self.cut_in.ns.run(["nft", "delete", "table", "inet", self._table(self.cut_in)])
        self.cut_in = None

    def is_cut(self) -> bool:
        return self.cut_in is not None


# ------------------------------------------------------------------ nodes


class MeshNode:
    """A node of a Topology: a namespace, overlay addresses, links."""

    kind = "?"

    def __init__(self, topo: "Topology", name: str, index: int):
        self.topo = topo
        self.name = name
        self.label = name
        self.index = index
        self.ns: Namespace = netns.create_namespace(name, topo.ident)
        topo.namespaces.append(self.ns)
        self.links: list[Link] = []
        self.private_key, self.public_key = netns.wg_genkey()
        self.key_path = topo.workdir / f"{name}.key"
        self.key_path.write_text(self.private_key + "\n")
        self.key_path.chmod(0o600)
        self.inner_v6 = overlay_v6(index)
        self.inner_v4 = overlay_v4(index)
        self.prefix_v6 = prefix_v6(index)
        self.prefix_v4 = prefix_v4(index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def addr(self, family: str) -> str:
        return self.inner_v6 if family == "ipv6" else self.inner_v4

    def prefix(self, family: str) -> str:
        return self.prefix_v6 if family == "ipv6" else self.prefix_v4

    def link_to(self, other: "MeshNode") -> Link:
        for lk in self.links:
            if lk.other(self) is other:
                return lk
        raise KeyError(f"no link {self.name} - {other.name}")

    def listen_port(self, link: Link) -> int:
        raise NotImplementedError

    def endpoint(self, link: Link) -> str:
        """Where the node across `link` sends this node's WireGuard packets."""
        addr = link.underlay_addr(self)
        port = self.listen_port(link)
        return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def alive(self) -> bool:
        raise NotImplementedError

    def daemons(self) -> list[Daemon]:
        raise NotImplementedError

    def next_hop_node(self, dest: "MeshNode", family: str = "ipv6") -> Optional["MeshNode"]:
        """The neighbour this node currently forwards dest's prefix to, or None."""
        raise NotImplementedError

    def neighbour_up(self, other: "MeshNode") -> bool:
        """True when the routing protocol sees `other` as a live neighbour."""
        raise NotImplementedError

    def ping_ok(self, dest: "MeshNode", family: str, wait: float = 2) -> bool:
        """One ping (from our overlay address) to dest's overlay address."""
        return self.ping(dest, family, count=1, wait=wait)[1] == 1

    def ping(self, dest: "MeshNode", family: str, count: int = 3, interval: float = 0.2,
             wait: float = 2) -> tuple[int, int]:
        """(sent, received) of `ping -c count` from our overlay address to dest's."""
        return self.ns.ping(dest.addr(family), count=count, wait=wait, interval=interval,
                            source=self.addr(family))

    def diagnostics(self) -> str:
        """Route tables etc., attached to failure messages."""
        out = [f"--- {self.name} ({self.kind}, {self.ns.name})"]
        for args in (["-6", "route", "show"], ["-4", "route", "show"]):
            out.append(f"$ ip {' '.join(args)}\n" + self.ns.ip(*args, check=False).stdout)
        return "\n".join(out)


class PlexusMeshNode(MeshNode):
    """`plexus node` with every link as a mesh peer (no allowed_prefixes)."""

    kind = "plexus"

    def __init__(self, topo: "Topology", name: str, index: int, binary: str,
                 babel: Optional[dict] = None, networks: Optional[list[str]] = None):
        super().__init__(topo, name, index)
        self.networks = networks or []
        self.binary = binary
        self.tun = f"plx{index}"
        self.socket = topo.workdir / f"{name}.sock"
        self.config_path = topo.workdir / f"{name}.toml"
        self.log_path = topo.workdir / f"{name}.log"
        self.babel = dict(DEFAULT_BABEL)
        self.babel.update(babel or {})
        self.daemon: Optional[Daemon] = None

    def listen_port(self, link: Link) -> int:
        return WG_BASE_PORT  # one UDP socket serves every link

    def config_text(self) -> str:
        lines = [
            "[interface]",
            f'private_key_file = "{self.key_path}"',
            f"listen_port = {WG_BASE_PORT}",
            f'tun = "{self.tun}"',
            f'addresses = ["{self.inner_v6}/64", "{self.inner_v4}/24"]',
            f"mtu = {netns.TUN_MTU}",
            f'control_socket = "{self.socket}"',
        ]
        if self.networks:
            lines.append(f"networks = {toml_value(self.networks)}")
        for lk in self.links:
            peer = lk.other(self)
            lines += ["", f"# mesh link {lk.index} to {peer.name} ({lk.family} underlay)",
                      "[[peer]]", f'public_key = "{peer.public_key}"',
                      f'endpoint = "{peer.endpoint(lk)}"']
        if self.babel:
            lines += ["", "[babel]"]
            for k, v in self.babel.items():
                lines.append(f"{k} = {toml_value(v)}")
        return "\n".join(lines) + "\n"

    def start(self, wait: float = 15) -> None:
        self.config_path.write_text(self.config_text())
        self.daemon = Daemon(self.ns, self.name,
                             [self.binary, "node", "--config", str(self.config_path),
                              "--log-level", "debug"], self.log_path)
        wait_until(self._started, wait, f"{self.name}: control socket answers")

    def _started(self) -> bool:
        if not self.alive():
            raise Fatal(f"{self.name} exited with {self.daemon.proc.returncode}:\n"
                        f"{self.daemon.log_text()[-4000:]}")
        return self.socket.exists() and self.ns.link_exists(self.tun) and \
            self._query("status", check=False).returncode == 0

    def stop(self) -> None:
        if self.daemon:
            self.daemon.stop()

    def alive(self) -> bool:
        return self.daemon is not None and self.daemon.alive()

    def daemons(self) -> list[Daemon]:
        return [self.daemon] if self.daemon else []

    def _query(self, what: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ns.run([self.binary, what, "--json", "--socket", str(self.socket)],
                           check=check, timeout=20)

    def routes(self) -> dict:
        return json.loads(self._query("routes").stdout)

    def status(self) -> dict:
        return json.loads(self._query("status").stdout)

    def selected_route(self, prefix: str) -> Optional[dict]:
        for r in self.routes().get("routes", []):
            if r.get("prefix") == prefix and r.get("selected") and \
                    not r.get("source_prefix"):
                return r
        return None

    def next_hop_node(self, dest: MeshNode, family: str = "ipv6") -> Optional[MeshNode]:
        r = self.selected_route(dest.prefix(family))
        if not r or r.get("local"):
            return None
        for lk in self.links:
            if lk.other(self).public_key == r.get("peer"):
                return lk.other(self)
        return None

    def neighbour_up(self, other: MeshNode) -> bool:
        for n in self.routes().get("neighbours", []):
            if n.get("peer") == other.public_key and n.get("link") == "up":
                return True
        return False

    def diagnostics(self) -> str:
        out = [super().diagnostics()]
        for what in ("routes", "status"):
            p = self._query(what, check=False) if self.alive() else None
            out.append(f"$ plexus {what} --json\n" +
                       (p.stdout + p.stderr if p else "(not running)"))
        return "\n".join(out)


class BabeldNode(MeshNode):
    """wireguard-go per link + babeld: a reference Babel router from standard parts."""

    kind = "babeld"

    def __init__(self, topo: "Topology", name: str, index: int,
                 hello_interval: Optional[float] = 0.5,
                 interface_options: str = "type tunnel"):
        """hello_interval None: babeld's default (4 s)."""
        super().__init__(topo, name, index)
        self.hello_interval = hello_interval
        self.interface_options = interface_options
        self.wg: dict[Link, str] = {}         # link -> wireguard-go interface name
        self.wg_daemons: dict[Link, Daemon] = {}
        self.babeld: Optional[Daemon] = None
        self.config_path = topo.workdir / f"{name}-babeld.conf"
        self.pid_path = topo.workdir / f"{name}-babeld.pid"
        self.state_path = topo.workdir / f"{name}-babeld.state"
        self.log_path = topo.workdir / f"{name}-babeld.log"
        self.ns.run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
                     "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                     "net.ipv4.conf.default.rp_filter=0"])
        # a dummy device holds the prefix (ifb, which behaves alike, where the
        # kernel has no dummy module)
        if self.ns.ip("link", "add", "ov0", "type", "dummy", check=False).returncode != 0:
            self.ns.ip("link", "add", "ov0", "type", "ifb")
        self.ns.ip("addr", "add", f"{self.inner_v6}/64", "dev", "ov0", "nodad")
        self.ns.ip("addr", "add", f"{self.inner_v4}/24", "dev", "ov0")
        self.ns.ip("link", "set", "ov0", "up")

    def listen_port(self, link: Link) -> int:
        return WG_BASE_PORT + self.links.index(link) + 1

    def link_local(self, link: Link) -> str:
        return f"fe80::{self.index:x}:{self.links.index(link) + 1:x}"

    def babeld_config(self) -> str:
        lines = [
            "# written by tests/system/topology.py",
            f"local-port {BABELD_LOCAL_PORT}",
            "random-id true",
            f"default {self.interface_options}" +
            (f" hello-interval {self.hello_interval}" if self.hello_interval else ""),
        ]
        lines += [f"interface {self.wg[lk]}" for lk in self.links]
        lines += [
            f"redistribute ip {self.prefix_v6} eq 64 allow",
            f"redistribute ip {self.prefix_v4} eq 24 allow",
            "redistribute local deny",
            "redistribute deny",
        ]
        return "\n".join(lines) + "\n"

    def start(self, wait: float = 15) -> None:
        for lk in self.links:
            ifname = f"pxw{os.getpid()}x{netns._next_id()}"[:15]
            self.wg[lk] = ifname
            d = Daemon(self.ns, f"{self.name}-wg-{lk.other(self).name}",
                       ["wireguard-go", "-f", ifname],
                       self.topo.workdir / f"{self.name}-wg-{lk.other(self).name}.log",
                       env={"WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "verbose"})
            self.wg_daemons[lk] = d
            sock = netns.WG_SOCKET_DIR / f"{ifname}.sock"

            def started(d=d, sock=sock, ifname=ifname) -> bool:
                if not d.alive():
                    raise Fatal(f"{d.label} exited:\n{d.log_text()[-4000:]}")
                return sock.exists() and self.ns.link_exists(ifname)

            wait_until(started, wait, f"{d.label}: UAPI socket")
            peer = lk.other(self)
            self.ns.run(["wg", "set", ifname, "listen-port", str(self.listen_port(lk)),
                         "private-key", str(self.key_path),
                         "peer", peer.public_key, "allowed-ips", "::/0,0.0.0.0/0",
                         "endpoint", peer.endpoint(lk)])
            # only the configured link-local address (no kernel-generated one)
            self.ns.ip("link", "set", "dev", ifname, "addrgenmode", "none")
            self.ns.ip("addr", "add", f"{self.link_local(lk)}/64", "dev", ifname, "nodad")
            self.ns.ip("link", "set", ifname, "mtu", str(netns.TUN_MTU), "multicast", "on",
                       "up")
        self.config_path.write_text(self.babeld_config())
        self.babeld = Daemon(self.ns, f"{self.name}-babeld",
                             ["babeld", "-c", str(self.config_path), "-I", str(self.pid_path),
                              "-S", str(self.state_path), "-d", "1"], self.log_path)

        def babeld_started() -> bool:
            if not self.babeld.alive():
                raise Fatal(f"babeld exited:\n{self.babeld.log_text()[-4000:]}")
            return self.babeld_dump(check=False) is not None

        wait_until(babeld_started, wait, f"{self.name}: babeld local port answers")

    def stop(self) -> None:
        if self.babeld:
            self.babeld.stop()
        for lk, d in self.wg_daemons.items():
            d.stop()
            sock = netns.WG_SOCKET_DIR / f"{self.wg[lk]}.sock"
            if sock.exists():
                sock.unlink()

    def alive(self) -> bool:
        return bool(self.babeld and self.babeld.alive() and
                    all(d.alive() for d in self.wg_daemons.values()))

    def daemons(self) -> list[Daemon]:
        return ([self.babeld] if self.babeld else []) + list(self.wg_daemons.values())

    def babeld_dump(self, check: bool = True) -> Optional[str]:
        """The text babeld's local interface prints for `dump` (None if it does not
        answer and check is False)."""
        script = (
            "import socket, sys, time\n"
            f"s = socket.create_connection(('::1', {BABELD_LOCAL_PORT}), timeout=3)\n"
            "buf = b''\n"
            "def until(tok):\n"
            "    global buf\n"
            "    while tok not in buf:\n"
            "        d = s.recv(65536)\n"
            "        if not d: break\n"
            "        buf += d\n"
            "until(b'ok\\n')\n"
            "buf = b''\n"
            "s.sendall(b'dump\\n')\n"
            "until(b'ok\\n')\n"
            "sys.stdout.write(buf.decode(errors='replace'))\n"
        )
        p = self.ns.run([netns.PYTHON, "-c", script], check=False, timeout=20)
        if p.returncode != 0:
            if check:
                raise AssertionError(f"{self.name}: babeld dump failed: {p.stderr}")
            return None
        return p.stdout

    def babel_routes(self, family: str = "ipv6") -> str:
        """`ip route show proto babel` in this namespace."""
        return self.ns.ip("-6" if family == "ipv6" else "-4", "route", "show",
                          "proto", "babel").stdout

    def next_hop_node(self, dest: MeshNode, family: str = "ipv6") -> Optional[MeshNode]:
        out = self.ns.ip("-6" if family == "ipv6" else "-4", "route", "show",
                         dest.prefix(family), "proto", "babel", check=False).stdout
        m = re.search(r"\bdev (\S+)", out)
        if not m:
            return None
        for lk, ifname in self.wg.items():
            if ifname == m.group(1):
                return lk.other(self)
        return None

    def neighbour_up(self, other: MeshNode) -> bool:
        lk = self.link_to(other)
        dump = self.babeld_dump(check=False) or ""
        for line in dump.splitlines():
            if line.startswith("add neighbour") and f" if {self.wg[lk]} " in line:
                m = re.search(r"\bcost (\d+)", line)
                return bool(m) and int(m.group(1)) < 0xFFFF
        return False

    def diagnostics(self) -> str:
        out = [super().diagnostics()]
        out.append("$ babeld dump\n" + (self.babeld_dump(check=False) or "(no answer)"))
        for lk, ifname in self.wg.items():
            out.append(f"$ wg show {ifname}\n" +
                       self.ns.run(["wg", "show", ifname], check=False).stdout)
        return "\n".join(out)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {v!r}")


# ------------------------------------------------------------------ topology


class Topology:
    """Nodes in namespaces joined by veth links. Build, then start()::

        topo = Topology(plexus_bin)
        n1, n2 = topo.add_node("n1", "plexus"), topo.add_node("n2", "babeld")
        topo.link(n1, n2, "ipv6")
        topo.start()
        ...
        topo.close()
    """

    def __init__(self, plexus_bin: Optional[str] = None):
        self.plexus_bin = plexus_bin
        self.ident = netns._next_id()
        self.workdir = netns.short_tmpdir()
        self.nodes: list[MeshNode] = []
        self.links: list[Link] = []
        self.namespaces: list[Namespace] = []

    def __enter__(self) -> "Topology":
        return self

    def __exit__(self, *exc) -> None:
        self.close(keep_files=exc[0] is not None)

    def node(self, name: str) -> MeshNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def add_node(self, name: str, kind: str, **kwargs) -> MeshNode:
        index = len(self.nodes) + 1
        if kind == "plexus":
            if not self.plexus_bin:
                raise AssertionError("plexus binary not found: set PLEXUS_BIN or build it")
            n: MeshNode = PlexusMeshNode(self, name, index, self.plexus_bin, **kwargs)
        elif kind == "babeld":
            n = BabeldNode(self, name, index, **kwargs)
        else:
            raise ValueError(kind)
        self.nodes.append(n)
        return n

    def link(self, a: MeshNode, b: MeshNode, family: str = "ipv4") -> Link:
        lk = Link(len(self.links) + 1, a, b, family)
        self.links.append(lk)
        return lk

    def start(self) -> None:
        for lk in self.links:
            lk.check_underlay()
        for n in self.nodes:
            n.start()

    def daemons(self) -> list[Daemon]:
        return [d for n in self.nodes for d in n.daemons()]

    def check_alive(self) -> None:
        dead = [n.name for n in self.nodes if not n.alive()]
        if dead:
            raise AssertionError(f"nodes not running: {dead}")

    def diagnostics(self) -> str:
        return netns.diagnostics_of(self.nodes)

    def close(self, keep_files: bool = False) -> None:
        for lk in self.links:
            try:
                lk.restore()
            except Exception:  # noqa: BLE001 - namespaces go away anyway
                pass
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                print(f"warning: stopping {n.name}: {e!r}", file=sys.stderr)
        for ns in self.namespaces:
            netns.delete_namespace(ns)
        if keep_files or os.environ.get("PLXT_KEEP"):
            print(f"topology files kept in {self.workdir}", file=sys.stderr)
        else:
            netns.cleanup_dir(self.workdir)


def line(topo: Topology, kind: str, n: int, families=("ipv4", "ipv6"),
         **node_kwargs) -> list[MeshNode]:
    """n1 - n2 - ... - nN; link i uses families[i % len(families)] as underlay.
    node_kwargs go to every node (e.g. babel={...} for plexus nodes)."""
    nodes = [topo.add_node(f"n{i + 1}", kind, **node_kwargs) for i in range(n)]
    for i in range(n - 1):
        topo.link(nodes[i], nodes[i + 1], families[i % len(families)])
    return nodes


def ring(topo: Topology, kind: str, n: int, families=("ipv4", "ipv6"),
         **node_kwargs) -> list[MeshNode]:
    """n1 - n2 - ... - nN - n1."""
    nodes = line(topo, kind, n, families, **node_kwargs)
    topo.link(nodes[-1], nodes[0], families[(n - 1) % len(families)])
    return nodes


# ------------------------------------------------------------------ fast ping


_PING_LINE = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")


class FastPing:
    """`ping -D -O -i interval` from src to dst's overlay address, output to a file.

    ``replies()`` gives (unix time, icmp_seq) of every reply so far; ``gap(since)``
    the longest silence between consecutive replies around `since`.
    """

    def __init__(self, src: MeshNode, dst: MeshNode, family: str = "ipv6",
                 interval: float = 0.01, path: Optional[Path] = None):
        self.interval = interval
        self.path = path or (src.topo.workdir / f"ping-{src.name}-{dst.name}-{time.time():.0f}")
        self.out = open(self.path, "wb")
        cmd = ["ping", "-n", "-D", "-O", "-i", str(interval), "-W", "1",
               "-I", src.addr(family), dst.addr(family)]
        self.started = time.time()
        self.proc = subprocess.Popen(src.ns.argv(cmd), stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def replies(self) -> list[tuple[float, int]]:
        out = []
        seen = set()
        for line in self.path.read_text(errors="replace").splitlines():
            m = _PING_LINE.match(line)
            if m and int(m.group(2)) not in seen and "DUP!" not in line:
                seen.add(int(m.group(2)))
                out.append((float(m.group(1)), int(m.group(2))))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()

    def text(self) -> str:
        return self.path.read_text(errors="replace")

    @staticmethod
    def gap_after(replies: list[tuple[float, int]], since: float, interval: float) -> dict:
        """Largest silence in the replies that ends after `since`: by receive time
        (`seconds`, the figure the tests assert on) and by the longest run of missing
        icmp_seq (`lost`, and `lost_seconds` = lost x the measured send interval).
        Replies before since - 1 s are ignored."""
        rs = sorted(r for r in replies if r[0] >= since - 1.0)
        best = {"seconds": None, "lost": 0, "lost_seconds": 0.0,
                "replies_after": sum(1 for r in rs if r[0] > since)}
        if len(rs) < 2 or rs[-1][0] <= since:
            return best
        worst = 0.0
        for (t0, _), (t1, _) in zip(rs, rs[1:]):
            if t1 > since:
                worst = max(worst, t1 - t0)
        seqs = sorted(s for _, s in rs)
        lost = max((b - a - 1 for a, b in zip(seqs, seqs[1:])), default=0)
        # ping's real send interval is somewhat longer than asked (timer slack): use the
        # measured one (every reply's time is its send time plus a sub-ms RTT)
        by_seq = sorted(replies, key=lambda r: r[1])
        real = interval
        if len(by_seq) >= 2 and by_seq[-1][1] > by_seq[0][1]:
            real = (by_seq[-1][0] - by_seq[0][0]) / (by_seq[-1][1] - by_seq[0][1])
        best.update(seconds=worst, lost=lost, lost_seconds=lost * real,
                    send_interval=real)
        return best
