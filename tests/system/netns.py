"""Helpers for plexus system tests: network namespaces, daemons, configs.

Everything here stays inside namespaces this module creates itself
(named ``plxt-<pid>-<n>-<side>``) and stops only processes it started, by PID.
Layout of one underlay pair (``Underlay``)::

    plxt-P-N-a [ul0 10.111.0.1/24 fd11::1/64] <-- veth --> [ul0 10.111.0.2/24 fd11::2/64] plxt-P-N-b

The nodes running on it (``PlexusNode``, ``WireGuardGoNode``) share one small
interface: ``start() / stop() / restart() / alive()``, ``public_key``,
``inner_v4`` / ``inner_v6`` (tunnel-inside addresses) and
``handshake_unix(peer_public_key)``.
"""

from __future__ import annotations

import atexit
import dataclasses
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PREFIX = f"plxt-{os.getpid()}-"
UNDERLAY_V4 = ("10.111.0.1", "10.111.0.2")
UNDERLAY_V6 = ("fd11::1", "fd11::2")
INNER_V4 = ("10.0.0.1", "10.0.0.2")
INNER_V6 = ("fd00:1::1", "fd00:1::2")
WG_PORT = 51820
TUN_MTU = 1420
WG_SOCKET_DIR = Path("/var/run/wireguard")

_counter = 0
_live_namespaces: set[str] = set()
_all_daemons: list["Daemon"] = []


def _next_id() -> int:
    global _counter
    _counter += 1
    return _counter


# ------------------------------------------------------------------ generic helpers


class TimeoutExpired(AssertionError):
    pass


class Fatal(AssertionError):
    """Raised by a wait_until predicate to stop waiting at once (e.g. daemon died)."""


def wait_until(pred: Callable[[], object], timeout: float, what: str,
               interval: float = 0.1):
    """Polls pred until it returns a truthy value (returned) or timeout (raises)."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = pred()
            if value:
                return value
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutExpired(f"timed out after {timeout:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


def run(cmd: list[str], check: bool = True, timeout: float = 60,
        input: Optional[bytes] = None) -> subprocess.CompletedProcess:
    """Runs cmd on the host, capturing output as text."""
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    p.stdout = p.stdout.decode(errors="replace")
    p.stderr = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError(f"command failed ({p.returncode}): {' '.join(cmd)}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def is_root() -> bool:
    return os.geteuid() == 0


def find_plexus() -> Optional[str]:
    """The plexus binary: $PLEXUS_BIN, else the newest build/*/src/cli/plexus."""
    env = os.environ.get("PLEXUS_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = [p for p in glob.glob(str(REPO / "build" / "*" / "src" / "cli" / "plexus"))
             if os.access(p, os.X_OK)]
    if not found:
        return None
    return max(found, key=os.path.getmtime)


def short_tmpdir() -> Path:
    """A short private directory (unix socket paths must stay under 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix=f"plxt-{os.getpid()}-", dir="/tmp"))


def wg_genkey() -> tuple[str, str]:
    """(private, public) base64 keys made with wg(8)."""
    priv = run(["wg", "genkey"]).stdout.strip()
    pub = run(["wg", "pubkey"], input=(priv + "\n").encode()).stdout.strip()
    return priv, pub


# ------------------------------------------------------------------ namespaces


class Namespace:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"Namespace({self.name})"

    def argv(self, cmd: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, cmd: list[str], check: bool = True, timeout: float = 60,
            input: Optional[bytes] = None) -> subprocess.CompletedProcess:
        return run(self.argv(cmd), check=check, timeout=timeout, input=input)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["ip", "-n", self.name, *args], check=check)

    def link_exists(self, ifname: str) -> bool:
        return self.ip("link", "show", "dev", ifname, check=False).returncode == 0

    def ping(self, addr: str, count: int = 1, wait: float = 1, interval: float = 0.2,
             size: Optional[int] = None, source: Optional[str] = None) -> tuple[int, int]:
        """(sent, received) of `ping -c count addr` inside the namespace,
        from address `source` if given."""
        cmd = ["ping", "-n", "-q", "-c", str(count), "-W", str(wait), "-i", str(interval)]
        if size is not None:
            cmd += ["-s", str(size)]
        if source is not None:
            cmd += ["-I", source]
        p = self.run([*cmd, addr], check=False, timeout=count * (interval + wait) + 30)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        if not m:
            return count, 0
        return int(m.group(1)), int(m.group(2))

    def ping_ok(self, addr: str) -> bool:
        return self.ping(addr, count=1, wait=1)[1] == 1

    def udp_snmp(self) -> dict[str, int]:
        """The `Udp:` counters of /proc/net/snmp inside the namespace."""
        text = self.run(["cat", "/proc/net/snmp"]).stdout
        rows = [line.split()[1:] for line in text.splitlines() if line.startswith("Udp:")]
        return {k: int(v) for k, v in zip(rows[0], rows[1])}


def create_namespace(side: str, ident: int) -> Namespace:
    ns = Namespace(f"{PREFIX}{ident}-{side}")
    run(["ip", "netns", "add", ns.name])
    _live_namespaces.add(ns.name)
    ns.ip("link", "set", "lo", "up")
    # no DAD delay or router solicitations: addresses are usable at once
    ns.run(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_ra=0",
            "net.ipv6.conf.default.accept_ra=0"])
    return ns


def delete_namespace(ns: Namespace) -> None:
    if not ns.name.startswith("plxt-"):
        raise AssertionError(f"refusing to delete foreign namespace {ns.name}")
    for pid in _pids_in_namespace(ns.name):
        _stop_pid(pid)
    run(["ip", "netns", "del", ns.name], check=False)
    _live_namespaces.discard(ns.name)


def _pids_in_namespace(name: str) -> list[int]:
    p = run(["ip", "netns", "pids", name], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def _stop_pid(pid: int, grace: float = 5) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def clean_stale() -> None:
    """Removes namespaces (and their processes) and wireguard-go sockets left by
    earlier runs of this harness whose pytest process is gone. Our prefix only."""
    p = run(["ip", "netns", "list"], check=False)
    for line in p.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"plxt-(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            delete_namespace(Namespace(name))
    for sock in glob.glob(str(WG_SOCKET_DIR / "pxw*.sock")):
        m = re.match(r"pxw(\d+)x", os.path.basename(sock))
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            os.unlink(sock)


class Underlay:
    """Two fresh namespaces a and b joined by a veth pair named ul0 on both sides."""

    def __init__(self, mtu: int = 1500):
        self.ident = _next_id()
        self.a = create_namespace("a", self.ident)
        self.b = create_namespace("b", self.ident)
        self.ns = (self.a, self.b)
        try:
            # create the pair inside a, with the peer end born directly in b
            self.a.ip("link", "add", "ul0", "mtu", str(mtu), "type", "veth",
                      "peer", "name", "ul0", "netns", self.b.name)
            for i, ns in enumerate(self.ns):
                ns.ip("addr", "add", f"{UNDERLAY_V4[i]}/24", "dev", "ul0")
                ns.ip("addr", "add", f"{UNDERLAY_V6[i]}/64", "dev", "ul0", "nodad")
                ns.ip("link", "set", "ul0", "up")
            wait_until(lambda: self.a.ping_ok(UNDERLAY_V4[1]), 10, "underlay IPv4")
            wait_until(lambda: self.a.ping_ok(UNDERLAY_V6[1]), 10, "underlay IPv6")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for ns in self.ns:
            delete_namespace(ns)


# ------------------------------------------------------------------ daemons


class Daemon:
    """A foreground process started inside a namespace; stopped by its PID."""

    def __init__(self, ns: Namespace, label: str, cmd: list[str], log_path: Path,
                 env: Optional[dict[str, str]] = None):
        self.ns = ns
        self.label = label
        self.cmd = cmd
        self.log_path = log_path
        self.started_at = time.time()
        self.stopped_at: Optional[float] = None
        self.returncode: Optional[int] = None
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log_path, "ab") as log:
            log.write(f"=== {time.strftime('%T')} start: {' '.join(cmd)}\n".encode())
            log.flush()
            # `ip netns exec` execs cmd, so this PID is the daemon's own;
            # a new session keeps the terminal's Ctrl-C away from it.
            self.proc = subprocess.Popen(ns.argv(cmd), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         env=full_env, start_new_session=True)
        self.pid = self.proc.pid
        _all_daemons.append(self)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, grace: float = 10) -> Optional[int]:
        """Sends sig, waits up to grace seconds, then SIGKILL. Returns the exit code."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                with open(self.log_path, "ab") as log:
                    log.write(b"=== killed with SIGKILL after grace period\n")
        if self.stopped_at is None:
            self.stopped_at = time.time()
        self.returncode = self.proc.returncode
        return self.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def daemons_between(t0: float, t1: float) -> list[Daemon]:
    """Daemons that ran at some point in [t0, t1] (for failure reports)."""
    return [d for d in _all_daemons
            if d.started_at <= t1 and (d.stopped_at is None or d.stopped_at >= t0)]


@atexit.register
def _emergency_cleanup() -> None:
    for d in _all_daemons:
        if d.alive():
            d.stop(grace=3)
    for name in list(_live_namespaces):
        delete_namespace(Namespace(name))


# ------------------------------------------------------------------ nodes


@dataclasses.dataclass
class PeerSpec:
    public_key: str
    allowed: list[str]
    endpoint: Optional[str] = None
    keepalive: Optional[int] = None


def host_prefixes(v6: str, v4: str) -> list[str]:
    return [f"{v6}/128", f"{v4}/32"]


class Node:
    """Common shape of a plexus node and a wireguard-go node."""

    kind = "?"

    def __init__(self, ns: Namespace, workdir: Path, label: str, index: int,
                 port: int = WG_PORT):
        self.ns = ns
        self.workdir = workdir
        self.label = label
        self.inner_v6 = INNER_V6[index]
        self.inner_v4 = INNER_V4[index]
        self.underlay_v4 = UNDERLAY_V4[index]
        self.underlay_v6 = UNDERLAY_V6[index]
        self.port = port
        self.private_key, self.public_key = wg_genkey()
        self.peers: list[PeerSpec] = []
        self.daemon: Optional[Daemon] = None
        self.log_path = workdir / f"{label}.log"

    def endpoint(self, v6: bool = False) -> str:
        return f"[{self.underlay_v6}]:{self.port}" if v6 else f"{self.underlay_v4}:{self.port}"

    def peer_spec(self, with_endpoint: bool = True, v6: bool = False,
                  keepalive: Optional[int] = None) -> PeerSpec:
        """How another node should list this one as its peer."""
        return PeerSpec(self.public_key, host_prefixes(self.inner_v6, self.inner_v4),
                        self.endpoint(v6) if with_endpoint else None, keepalive)

    def alive(self) -> bool:
        return self.daemon is not None and self.daemon.alive()

    def stop(self, sig: int = signal.SIGTERM) -> Optional[int]:
        return self.daemon.stop(sig) if self.daemon else None

    def restart(self) -> None:
        self.stop()
        self.start()

    def start(self) -> None:
        raise NotImplementedError

    def handshake_unix(self, peer_public_key: str) -> int:
        raise NotImplementedError


class PlexusNode(Node):
    kind = "plexus"

    def __init__(self, binary: str, ns: Namespace, workdir: Path, label: str, index: int,
                 port: int = WG_PORT, tun: str = "plx0"):
        super().__init__(ns, workdir, label, index, port)
        self.binary = binary
        self.tun = tun
        self.socket = workdir / f"{label}.sock"
        self.config_path = workdir / f"{label}.toml"
        self.key_path = workdir / f"{label}.key"
        self.key_path.write_text(self.private_key + "\n")
        self.key_path.chmod(0o600)

    def config_text(self) -> str:
        lines = [
            "[interface]",
            f'private_key_file = "{self.key_path}"',
            f"listen_port = {self.port}",
            f'tun = "{self.tun}"',
            f'addresses = ["{self.inner_v6}/64", "{self.inner_v4}/24"]',
            f"mtu = {TUN_MTU}",
            f'control_socket = "{self.socket}"',
        ]
        for p in self.peers:
            lines += ["", "[[peer]]", f'public_key = "{p.public_key}"']
            if p.endpoint:
                lines.append(f'endpoint = "{p.endpoint}"')
            lines.append("allowed_prefixes = [" + ", ".join(f'"{a}"' for a in p.allowed) + "]")
            if p.keepalive:
                lines.append(f"persistent_keepalive = {p.keepalive}")
        return "\n".join(lines) + "\n"

    def start(self, wait: float = 15) -> None:
        self.config_path.write_text(self.config_text())
        self.daemon = Daemon(self.ns, self.label,
                             [self.binary, "node", "--config", str(self.config_path),
                              "--log-level", "debug"], self.log_path)
        wait_until(lambda: self._started(), wait, f"{self.label}: control socket answers")

    def _started(self) -> bool:
        if not self.alive():
            raise Fatal(f"{self.label} exited with {self.daemon.proc.returncode}:\n"
                                 f"{self.daemon.log_text()[-4000:]}")
        return self.socket.exists() and self.ns.link_exists(self.tun) and \
            self.status_raw(check=False).returncode == 0

    def status_raw(self, json_output: bool = True, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.binary, "status", "--socket", str(self.socket)]
        if json_output:
            cmd.insert(2, "--json")
        return self.ns.run(cmd, check=check, timeout=20)

    def status(self) -> dict:
        return json.loads(self.status_raw().stdout)

    def peer_status(self, public_key: str) -> dict:
        for p in self.status().get("peers", []):
            if p.get("public_key") == public_key:
                return p
        raise AssertionError(f"{self.label}: peer {public_key} not in status")

    def handshake_unix(self, peer_public_key: str) -> int:
        return int(self.peer_status(peer_public_key).get("last_handshake_unix") or 0)

    def drops_total(self) -> int:
        return sum(int(v) for v in self.status().get("drops", {}).values())


class WireGuardGoNode(Node):
    """wireguard-go in the foreground, configured with wg(8) and ip(8)."""

    kind = "wireguard-go"

    def __init__(self, ns: Namespace, workdir: Path, label: str, index: int,
                 port: int = WG_PORT):
        super().__init__(ns, workdir, label, index, port)
        # the UAPI socket directory is shared by all namespaces: unique names
        self.ifname = f"pxw{os.getpid()}x{_next_id()}"[:15]
        self.key_path = workdir / f"{label}.key"
        self.key_path.write_text(self.private_key + "\n")
        self.key_path.chmod(0o600)

    @property
    def uapi_socket(self) -> Path:
        return WG_SOCKET_DIR / f"{self.ifname}.sock"

    def start(self, wait: float = 15) -> None:
        self.daemon = Daemon(self.ns, self.label, ["wireguard-go", "-f", self.ifname],
                             self.log_path, env={"WG_PROCESS_FOREGROUND": "1",
                                                 "LOG_LEVEL": "verbose"})
        wait_until(lambda: self._started(), wait, f"{self.label}: UAPI socket")
        args = ["wg", "set", self.ifname, "listen-port", str(self.port),
                "private-key", str(self.key_path)]
        for p in self.peers:
            args += ["peer", p.public_key, "allowed-ips", ",".join(p.allowed)]
            if p.endpoint:
                args += ["endpoint", p.endpoint]
            if p.keepalive:
                args += ["persistent-keepalive", str(p.keepalive)]
        self.ns.run(args)
        self.ns.ip("addr", "add", f"{self.inner_v6}/64", "dev", self.ifname, "nodad")
        self.ns.ip("addr", "add", f"{self.inner_v4}/24", "dev", self.ifname)
        self.ns.ip("link", "set", self.ifname, "mtu", str(TUN_MTU), "up")

    def _started(self) -> bool:
        if not self.alive():
            raise Fatal(f"{self.label} exited:\n{self.daemon.log_text()[-4000:]}")
        return self.uapi_socket.exists() and self.ns.link_exists(self.ifname)

    def stop(self, sig: int = signal.SIGTERM) -> Optional[int]:
        rc = super().stop(sig)
        if self.uapi_socket.exists():
            self.uapi_socket.unlink()
        return rc

    def handshake_unix(self, peer_public_key: str) -> int:
        out = self.ns.run(["wg", "show", self.ifname, "latest-handshakes"]).stdout
        for line in out.splitlines():
            key, _, ts = line.partition("\t")
            if key == peer_public_key:
                return int(ts)
        return 0

    def transfer(self, peer_public_key: str) -> tuple[int, int]:
        out = self.ns.run(["wg", "show", self.ifname, "transfer"]).stdout
        for line in out.splitlines():
            key, rx, tx = line.split("\t")
            if key == peer_public_key:
                return int(rx), int(tx)
        return 0, 0


def connect(a: Node, b: Node, a_knows_endpoint: bool = True, b_knows_endpoint: bool = True,
            v6_underlay: bool = False) -> None:
    """Makes a and b each other's peers (before start)."""
    a.peers = [b.peer_spec(with_endpoint=a_knows_endpoint, v6=v6_underlay)]
    b.peers = [a.peer_spec(with_endpoint=b_knows_endpoint, v6=v6_underlay)]


def wait_tunnel(a: Node, b: Node, timeout: float = 20) -> None:
    """Waits until a ping from a reaches b's inner IPv6 and IPv4 addresses."""
    wait_until(lambda: a.ns.ping_ok(b.inner_v6), timeout, f"{a.label} -> {b.label} IPv6 ping")
    wait_until(lambda: a.ns.ping_ok(b.inner_v4), timeout, f"{a.label} -> {b.label} IPv4 ping")


# ------------------------------------------------------------------ traffic helpers

TCP_BLAST = HERE / "tcp_blast.py"
UDP_GARBAGE = HERE / "udp_garbage.py"
PYTHON = sys.executable or "/usr/bin/python3"


def tcp_transfer(sender: Namespace, receiver: Namespace, dest: str, nbytes: int,
                 port: int = 5599, timeout: float = 300) -> tuple[dict, dict]:
    """Sends nbytes of random data from sender to dest:port (a receiver started in
    receiver). Returns (sender_report, receiver_report): {bytes, sha256, seconds}."""
    recv = subprocess.Popen(receiver.argv([PYTHON, str(TCP_BLAST), "recv", dest, str(port),
                                           "--timeout", str(timeout)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        line = recv.stdout.readline().decode()
        if not line.startswith("READY"):
            raise AssertionError(f"receiver did not start: {line} {recv.stderr.read().decode()}")
        sent = sender.run([PYTHON, str(TCP_BLAST), "send", dest, str(port), str(nbytes),
                           "--timeout", str(timeout)], timeout=timeout + 30)
        out, err = recv.communicate(timeout=60)
        if recv.returncode != 0:
            raise AssertionError(f"receiver failed ({recv.returncode}): {err.decode()}")
        return json.loads(sent.stdout), json.loads(out)
    finally:
        if recv.poll() is None:
            recv.kill()
            recv.wait()


def send_garbage(sender: Namespace, dest: str, port: int, seed: int, rounds: int,
                 responder_public_key: Optional[str] = None, timeout: float = 120) -> dict:
    """Runs udp_garbage.py in sender against dest:port; returns its JSON report."""
    cmd = [PYTHON, str(UDP_GARBAGE), dest, str(port), "--seed", str(seed),
           "--rounds", str(rounds)]
    if responder_public_key:
        cmd += ["--responder-public-key", responder_public_key]
    return json.loads(sender.run(cmd, timeout=timeout).stdout)


class BackgroundPing:
    """`ping -i interval addr` running in a namespace until stopped."""

    def __init__(self, ns: Namespace, addr: str, interval: float = 0.05):
        self.proc = subprocess.Popen(ns.argv(["ping", "-n", "-i", str(interval), "-W", "1", addr]),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self) -> tuple[int, int]:
        """(sent, received)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out.decode())
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cleanup_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ lab


class Lab:
    """One underlay pair, a private scratch directory and the nodes on it.

    ``lab.node(kind, i)`` starts nothing: set peers (``connect``) and call
    ``start()``. ``close()`` stops every node by PID, then removes the namespaces.
    """

    def __init__(self, plexus_bin: Optional[str] = None):
        self.plexus_bin = plexus_bin
        self.workdir = short_tmpdir()
        self.nodes: list[Node] = []
        try:
            self.underlay = Underlay()
        except BaseException:
            cleanup_dir(self.workdir)
            raise
        self.ns = self.underlay.ns

    def node(self, kind: str, index: int, label: Optional[str] = None) -> Node:
        label = label or f"{kind}-{'ab'[index]}"
        if kind == "plexus":
            if not self.plexus_bin:
                raise AssertionError("plexus binary not found: set PLEXUS_BIN or build "
                                     "it (cmake --preset release && cmake --build "
                                     "build/release --target plexus)")
            n: Node = PlexusNode(self.plexus_bin, self.ns[index], self.workdir, label, index)
        elif kind == "wireguard-go":
            n = WireGuardGoNode(self.ns[index], self.workdir, label, index)
        else:
            raise ValueError(kind)
        self.nodes.append(n)
        return n

    def pair(self, kind_a: str, kind_b: str, a_knows_endpoint: bool = True,
             b_knows_endpoint: bool = True, start: bool = True) -> tuple[Node, Node]:
        a, b = self.node(kind_a, 0), self.node(kind_b, 1)
        connect(a, b, a_knows_endpoint, b_knows_endpoint)
        if start:
            a.start()
            b.start()
        return a, b

    def close(self, keep_files: bool = False) -> None:
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                print(f"warning: stopping {n.label}: {e!r}", file=sys.stderr)
        self.underlay.close()
        if not keep_files and not os.environ.get("PLXT_KEEP"):
            cleanup_dir(self.workdir)


def diagnostics_of(nodes) -> str:
    """Every node's diagnostics() (status, routes, log tail), best effort."""
    parts = []
    for n in nodes:
        try:
            parts.append(n.diagnostics())
        except Exception as e:  # noqa: BLE001 - best effort
            parts.append(f"--- {n.name}: diagnostics failed: {e!r}")
    return "\n".join(parts)


def failed_in(request) -> bool:
    """Whether the test of this fixture request failed in setup or call
    (needs the rep_setup / rep_call hook of conftest.py)."""
    return any(getattr(request.node, f"rep_{w}", None) and
               getattr(request.node, f"rep_{w}").failed for w in ("setup", "call"))


def wait_pings(pairs, deadline: float, check, wait: float, pause: float) -> dict:
    """Pings every (src, dst, family) once per round (src.ping_ok(dst, family,
    wait)) until each has answered once or `deadline` (time.monotonic) passes;
    `check()` runs before each round (raise to stop). Returns {(src, dst,
    family): seconds after the call when it first answered}; missing keys
    never answered."""
    t0 = time.monotonic()
    pending, answered = list(pairs), {}
    while pending and time.monotonic() < deadline:
        check()
        still = []
        for s, d, f in pending:
            if s.ping_ok(d, f, wait=wait):
                answered[(s, d, f)] = time.monotonic() - t0
            else:
                still.append((s, d, f))
        pending = still
        if pending:
            time.sleep(pause)
    return answered
