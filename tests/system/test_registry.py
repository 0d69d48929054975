"""The registry and `plexus join` end to end, on 127.0.0.1 only.

A registry is initialised in a scratch directory and served on a free port of
127.0.0.1; tokens are made with `plexus registry token create`. Checked:
  - four `plexus join` runs enrol, get distinct prefixes, and write a state
    directory (keys 0600) and a node config that parses as TOML;
  - a join URL with a wrong CA fingerprint is refused before the token is sent;
  - malformed API requests get a 4xx with a JSON error, and the server lives on;
  - a registry killed with SIGKILL during 100 parallel joins loses no issued
    certificate (every serial answered with 200 is in `registry nodes --json`
    after a restart), never hands out a prefix twice, and its token accounting
    matches the nodes it holds.
Only processes started here are stopped, by their PID.
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import tomllib
from base64 import b64encode
from pathlib import Path

import pytest


HOST = "127.0.0.1"


def plexus(bin_path, *args, check=True):
    r = subprocess.run([bin_path, *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"plexus {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


class Registry:
    """A registry state dir and its `registry serve` process."""

    def __init__(self, bin_path, root: Path):
        self.bin = bin_path
        self.root = root
        self.dir = root / "registry"
        self.proc = None
        self.port = None
        self.log_path = root / "serve.log"
        plexus(bin_path, "registry", "init", "--name", "testnet", "--dir", str(self.dir),
               "--ipv4", "10.77.0.0/16")

    def admin(self, *args, check=True):
        return plexus(self.bin, "registry", *args, "--dir", str(self.dir), check=check)

    def start(self):
        serve_file = self.dir / "serve.json"
        if serve_file.exists():
            serve_file.unlink()
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.bin, "registry", "serve", "--dir", str(self.dir), "--listen", HOST,
             "--port", "0", "--host", HOST], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            assert self.proc.poll() is None, f"registry serve exited:\n{self.log()}"
            if serve_file.exists():
                self.port = json.loads(serve_file.read_text())["port"]
                return
            time.sleep(0.05)
        raise AssertionError(f"registry serve did not start:\n{self.log()}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def token(self, uses):
        out = self.admin("token", "create", "--uses", str(uses), "--json").stdout
        return json.loads(out)

    def nodes(self):
        return json.loads(self.admin("nodes", "--json").stdout)

    def tls(self):
        ctx = ssl.create_default_context(cafile=str(self.dir / "ca.crt"))
        return ctx

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection(HOST, self.port, context=self.tls(), timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()


@pytest.fixture
def registry(require_plexus):
    root = Path(tempfile.mkdtemp(prefix=f"plxt-reg-{os.getpid()}-", dir="/tmp"))
    reg = Registry(require_plexus, root)
    reg.start()
    yield reg
    reg.kill(signal.SIGTERM)
    if os.environ.get("PLXT_KEEP"):
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def join(reg, url, name, extra=()):
    d = reg.root / f"node-{name}"
    return plexus(reg.bin, "join", url, "--dir", str(d), "--name", name, *extra, check=False), d


def field(stdout, key):
    for line in stdout.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key}: line in\n{stdout}")


def test_init_refuses_an_existing_registry(registry):
    r = plexus(registry.bin, "registry", "init", "--name", "other", "--dir", str(registry.dir),
               check=False)
    assert r.returncode == 1
    assert "already exists" in r.stderr


def test_four_joins_get_distinct_prefixes(registry):
    url = registry.token(4)["url"]
    prefixes = set()
    for name in ["n1", "n2", "n3", "n4"]:
        r, d = join(registry, url, name)
        assert r.returncode == 0, r.stderr
        prefix = field(r.stdout, "prefix")
        address = field(r.stdout, "address")
        assert prefix not in prefixes
        prefixes.add(prefix)
        for key in ["identity.key", "wireguard.key"]:
            assert (d / key).stat().st_mode & 0o777 == 0o600
        config = tomllib.loads((d / "node.toml").read_text())
        assert config["interface"]["addresses"][0] == f"{address}/{prefix.split('/')[1]}"
        assert config["interface"]["private_key_file"] == str(d / "wireguard.key")
        # the node starts with its identity: certificates, registry agent
        assert config["identity"] == {"dir": str(d)}
        assert all("allowed_prefixes" not in p for p in config.get("peer", []))
    assert len(prefixes) == 4
    nodes = registry.nodes()
    assert sorted(n["name"] for n in nodes) == ["n1", "n2", "n3", "n4"]
    assert {n["prefix"] for n in nodes} == prefixes
    r, _ = join(registry, url, "n5")
    assert r.returncode == 1 and "no use left" in r.stderr
    assert "POST /v1/join 200 node=n1" in registry.log()


def test_wrong_fingerprint_is_refused(registry):
    token = registry.token(1)
    url = token["url"]
    head, fp = url.split("#sha256=")
    bad = head + "#sha256=" + ("0" if fp[0] != "0" else "1") + fp[1:]
    r, d = join(registry, bad, "mallory")
    assert r.returncode == 1
    assert "fingerprint mismatch" in r.stderr
    assert not (d / "identity.key").exists()
    tokens = json.loads(registry.admin("token", "list", "--json").stdout)
    assert [t["uses_left"] for t in tokens if t["id"] == token["id"]] == [1]


def error_of(body):
    j = json.loads(body)
    assert isinstance(j, dict) and isinstance(j.get("error"), str), body
    return j["error"]


def test_malformed_requests_get_4xx(registry):
    good = registry.token(1)["token"]
    used = registry.token(1)["token"]
    r, _ = join(registry, registry.token(1)["url"], "first")
    assert r.returncode == 0, r.stderr
    key = b64encode(bytes(range(32))).decode()

    def body(**kw):
        j = {"token": good, "name": "x1", "identity_key": key, "wireguard_key": key}
        j.update(kw)
        return json.dumps(j)

    cases = [
        ("POST", "/v1/join", "{not json", 400, "body: not valid JSON"),
        ("POST", "/v1/join", "[]", 400, "body: not a JSON object"),
        ("POST", "/v1/join", body(token=5), 400, "token: not a string"),
        ("POST", "/v1/join", body(name="Bad Name"), 400, "name:"),
        ("POST", "/v1/join", body(identity_key="xx"), 400, "identity_key:"),
        ("POST", "/v1/join", body(token="AAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"), 403, "token:"),
        ("POST", "/v1/join", body(token="nonsense"), 403, "token:"),
        ("POST", "/v1/join", body(token=used, name="first"), 409, "name:"),
        ("POST", "/v1/join", " " * (100 * 1024), 413, "body:"),
        ("POST", "/v1/renew", "{}", 400, "body:"),
        ("POST", "/v1/heartbeat", '{"kind": 3}', 400, "body:"),
        ("GET", "/v1/join", None, 405, "method:"),
        ("GET", "/v1/nothing", None, 404, "path:"),
    ]
    for method, path, data, status, prefix in cases:
        got, text = registry.request(method, path, data,
                                     {"Content-Type": "application/json"} if data else None)
        assert got == status, (method, path, data[:40] if data else None, got, text)
        assert error_of(text).startswith(prefix), (path, text)
    # wrong token type did not consume anything: the good token still joins
    got, text = registry.request("POST", "/v1/join", body(name="x2"))
    assert got == 200, text
    assert registry.proc.poll() is None
    for path in ["/v1/config", "/v1/crl", "/v1/bootstrap", "/v1/ca"]:
        got, text = registry.request("GET", path)
        assert got == 200, (path, text)


def raw_keys(n):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    out = []
    for _ in range(n):
        ident = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(*raw)
        wg = x25519.X25519PrivateKey.generate().public_key().public_bytes(*raw)
        out.append((b64encode(ident).decode(), b64encode(wg).decode()))
    return out


def cert_serial(pem):
    from cryptography import x509
    return format(x509.load_pem_x509_certificate(pem.encode()).serial_number, "x")


def test_sigkill_during_parallel_joins_loses_nothing(registry):
    uses = 200
    token = registry.token(uses)["token"]
    keys = raw_keys(100)
    results = {}
    lock = threading.Lock()
    enough = threading.Event()

    def worker(i):
        ident, wg = keys[i]
        data = json.dumps({"token": token, "name": f"p{i}", "identity_key": ident,
                           "wireguard_key": wg})
        try:
            status, text = registry.request("POST", "/v1/join", data,
                                            {"Content-Type": "application/json"})
        except (OSError, http.client.HTTPException) as e:
            status, text = None, repr(e)
        with lock:
            results[i] = (status, text)
            if sum(1 for s, _ in results.values() if s == 200) >= 15:
                enough.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    assert enough.wait(60), f"fewer than 15 joins succeeded:\n{registry.log()[-3000:]}"
    registry.kill(signal.SIGKILL)
    for t in threads:
        t.join(60)

    ok = {i: json.loads(text) for i, (status, text) in results.items() if status == 200}
    others = [(s, t[:100]) for s, t in results.values() if s not in (200, None)]
    assert not others, f"unexpected answers: {others[:5]}"
    assert 15 <= len(ok) < 100, f"{len(ok)} joins succeeded: the kill came too late to test"
    for j in ok.values():
        assert cert_serial(j["certificate"]) == j["serial"]
    answered_prefixes = [j["prefix"] for j in ok.values()]
    assert len(set(answered_prefixes)) == len(answered_prefixes)

    registry.start()
    nodes = registry.nodes()
    by_serial = {n["serial"]: n for n in nodes}
    lost = [j["name"] for j in ok.values() if j["serial"] not in by_serial]
    assert not lost, f"certificates answered with 200 but not stored: {lost}"
    for j in ok.values():
        assert by_serial[j["serial"]]["prefix"] == j["prefix"]
    print(f"{len(ok)} joins answered 200 before SIGKILL, {len(nodes)} nodes stored")
    stored_prefixes = [n["prefix"] for n in nodes]
    assert len(set(stored_prefixes)) == len(stored_prefixes)
    tokens = json.loads(registry.admin("token", "list", "--json").stdout)
    left = [t["uses_left"] for t in tokens if token.startswith(t["id"] + ".")]
    assert left == [uses - len(nodes)], "token uses and stored nodes disagree"

    # the restarted registry goes on, with a prefix nobody holds
    r, _ = join(registry, registry.token(1)["url"], "after")
    assert r.returncode == 0, r.stderr
    assert field(r.stdout, "prefix") not in set(stored_prefixes)


def signed_document(kind, version, issued_at, payload: bytes, key):
    """A SignedDocument (src/identity/signed_document.h) signed with an Ed25519 key."""
    import struct
    from cryptography.hazmat.primitives import serialization

    def lp(b):
        return struct.pack(">I", len(b)) + b

    signed = (lp(b"plexus signed document v1") + lp(kind.encode()) + struct.pack(">Q", version)
              + struct.pack(">q", issued_at) + lp(payload))
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    return {"issued_at": issued_at, "kind": kind, "payload": b64encode(payload).decode(),
            "signature": b64encode(key.sign(signed)).decode(),
            "signer": b64encode(key.public_key().public_bytes(*raw)).decode(),
            "version": version}


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def get_document(reg, path):
    status, text = reg.request("GET", path)
    assert status == 200, text
    doc = json.loads(text)
    return doc, json.loads(__import__("base64").b64decode(doc["payload"]))


def test_heartbeat_feeds_bootstrap_and_join_writes_the_peer(registry):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    token = registry.token(2)
    ident = ed25519.Ed25519PrivateKey.generate()
    wg_pub = b64encode(x25519.X25519PrivateKey.generate().public_key().public_bytes(*raw)).decode()
    status, text = registry.request("POST", "/v1/join", json.dumps(
        {"token": token["token"], "name": "seed",
         "identity_key": b64encode(ident.public_key().public_bytes(*raw)).decode(),
         "wireguard_key": wg_pub}))
    assert status == 200, text
    cert = json.loads(text)["certificate"]
    now = int(time.time())
    record = canonical({"certificate": cert, "endpoints": ["192.0.2.10:51820"]})
    beat = json.dumps(signed_document("peer-record", now, now, record, ident))
    status, text = registry.request("POST", "/v1/heartbeat", beat)
    assert status == 200, text
    status, text = registry.request("POST", "/v1/heartbeat", beat)
    assert status == 403, "a replayed heartbeat is refused"
    _, peers = registry.request("GET", "/v1/bootstrap")
    assert len(json.loads(peers)["peers"]) == 1
    seed = [n for n in registry.nodes() if n["name"] == "seed"][0]
    assert seed["last_seen"] is not None

    r, d = join(registry, token["url"], "second")
    assert r.returncode == 0, r.stderr
    config = tomllib.loads((d / "node.toml").read_text())
    assert config["peer"] == [{"public_key": wg_pub, "endpoint": "192.0.2.10:51820"}]


def test_admin_commands_change_the_signed_documents(registry):
    url = registry.token(2)["url"]
    for name in ["a1", "a2"]:
        r, _ = join(registry, url, name)
        assert r.returncode == 0, r.stderr
    crl0, _ = get_document(registry, "/v1/crl")
    config0, _ = get_document(registry, "/v1/config")
    serial = [n["serial"] for n in registry.nodes() if n["name"] == "a1"][0]

    registry.admin("revoke", "a1")
    crl1, crl_payload = get_document(registry, "/v1/crl")
    assert crl1["version"] == crl0["version"] + 1
    assert serial in crl_payload["serials"]
    config1, payload = get_document(registry, "/v1/config")
    assert config1["version"] == config0["version"] + 1
    assert payload["crl_version"] == crl1["version"]
    assert [n["revoked"] for n in registry.nodes() if n["name"] == "a1"] == [True]

    registry.admin("config", "set", "client_count", "5")
    config2, payload = get_document(registry, "/v1/config")
    assert config2["version"] == config1["version"] + 1
    assert payload["client_count"] == 5
    bad = registry.admin("config", "set", "network_prefix", "fd00::/48", check=False)
    assert bad.returncode == 1 and "fixed at `registry init`" in bad.stderr
    bad = registry.admin("config", "set", "max_clients", "1", check=False)
    assert bad.returncode == 1 and "max_clients" in bad.stderr
    assert get_document(registry, "/v1/config")[0]["version"] == config2["version"]

    token = registry.token(1)
    registry.admin("token", "delete", token["id"])
    assert token["id"] not in [t["id"] for t in json.loads(
        registry.admin("token", "list", "--json").stdout)]
    r, _ = join(registry, token["url"], "late")
    assert r.returncode == 1 and "unknown token" in r.stderr
