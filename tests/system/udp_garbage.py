#!/usr/bin/env python3
"""Sends malformed WireGuard datagrams to ADDR:PORT (run inside a test namespace).

    udp_garbage.py ADDR PORT [--seed N] [--rounds N] [--responder-public-key B64]

Per round, for each message type 1..4 (exact sizes 148 / 92 / 64 / >=32):
  truncated   header 't 0 0 0' + random rest, sizes below the exact size
  oversized   header + random rest, sizes above the exact size (types 1..3)
  exact       header + random rest at the exact size: bad MAC1 (type 1) or an
              unknown receiver index (types 2..4)
  reserved    the type byte followed by nonzero "reserved" bytes
plus unknown types (0, 5, 0x7f, 0xff), random bytes of random length, and, when
the responder's public key is given, type 1 and 2 messages with a valid MAC1
and random contents (they get past the MAC check and fail later).

Prints one JSON object: {"sent": n, "must_drop": n, "by_category": {...}}.
`must_drop` counts datagrams a correct node must drop and count; empty
datagrams and valid-MAC1 initiations (which a node under load may answer with
a cookie reply) are sent but not included.
"""

import argparse
import base64
import hashlib
import json
import random
import socket
import sys
import time

EXACT = {1: 148, 2: 92, 3: 64, 4: 32}
MAC1_OFFSET = {1: 116, 2: 60}
BURST = 32
BURST_PAUSE = 0.002


def header(msg_type: int) -> bytes:
    return bytes([msg_type, 0, 0, 0])


def with_header(rng: random.Random, msg_type: int, size: int) -> bytes:
    body = header(msg_type) + rng.randbytes(max(0, size - 4))
    return body[:size]


def mac1(responder_public: bytes, msg_alpha: bytes) -> bytes:
    key = hashlib.blake2s(b"mac1----" + responder_public).digest()
    return hashlib.blake2s(msg_alpha, digest_size=16, key=key).digest()


def catalogue(rng: random.Random, responder_public: bytes | None):
    """Yields (category, datagram, must_drop)."""
    for t, exact in EXACT.items():
        for size in sorted({1, 3, 4, 5, exact // 2, exact - 1}):
            yield f"type{t}_truncated", with_header(rng, t, size), True
        if t != 4:
            for size in (exact + 1, exact + 16, rng.randint(exact + 2, 1400)):
                yield f"type{t}_oversized", with_header(rng, t, size), True
            yield f"type{t}_exact_random", with_header(rng, t, exact), True
        else:
            for size in (32, 48, rng.randint(33, 1400), 1452):
                yield "type4_unknown_receiver", with_header(rng, 4, size), True
        bad = bytes([t, rng.randint(1, 255), 0, rng.randint(0, 255)])
        yield f"type{t}_reserved_nonzero", bad + rng.randbytes(exact - 4), True
    for t in (0, 5, 0x7F, 0xFF):
        yield "unknown_type", with_header(rng, t, rng.randint(4, 200)), True
    for _ in range(8):
        yield "random", rng.randbytes(rng.randint(1, 1400)), True
    yield "empty", b"", False
    if responder_public:
        for t in (1, 2):
            msg = bytearray(with_header(rng, t, EXACT[t]))
            off = MAC1_OFFSET[t]
            msg[off:off + 16] = mac1(responder_public, bytes(msg[:off]))
            msg[off + 16:off + 32] = bytes(16)  # no MAC2
            yield f"type{t}_valid_mac1", bytes(msg), t == 2


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--responder-public-key")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    responder = base64.b64decode(a.responder_public_key) if a.responder_public_key else None
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    by_category: dict[str, int] = {}
    sent = must_drop = 0
    for _ in range(a.rounds):
        for category, data, counted in catalogue(rng, responder):
            sock.sendto(data, (a.addr, a.port))
            by_category[category] = by_category.get(category, 0) + 1
            sent += 1
            must_drop += counted
            if sent % BURST == 0:
                time.sleep(BURST_PAUSE)
    print(json.dumps({"sent": sent, "must_drop": must_drop, "by_category": by_category}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
