#!/usr/bin/env python3
"""One TCP transfer with a checksum at both ends (run inside a namespace).

    tcp_blast.py recv ADDR PORT [--timeout S]      prints READY, then one JSON line
    tcp_blast.py send ADDR PORT NBYTES [--timeout S]

Each side prints {"bytes": n, "sha256": hex, "seconds": s} for what it sent or
received; the caller compares them. Data is random (os.urandom per chunk).
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import time

CHUNK = 1 << 20


def family_of(addr: str) -> int:
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def receive(addr: str, port: int, timeout: float) -> dict:
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(timeout)
    print("READY", flush=True)
    conn, _ = srv.accept()
    conn.settimeout(timeout)
    digest = hashlib.sha256()
    total = 0
    t0 = time.monotonic()
    while True:
        data = conn.recv(CHUNK)
        if not data:
            break
        digest.update(data)
        total += len(data)
    seconds = time.monotonic() - t0
    conn.close()
    return {"bytes": total, "sha256": digest.hexdigest(), "seconds": round(seconds, 3)}


def connect(addr: str, port: int, timeout: float) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(family_of(addr), socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((addr, port))
            s.settimeout(timeout)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def send(addr: str, port: int, nbytes: int, timeout: float) -> dict:
    s = connect(addr, port, min(timeout, 30))
    digest = hashlib.sha256()
    left = nbytes
    t0 = time.monotonic()
    while left > 0:
        data = os.urandom(min(CHUNK, left))
        digest.update(data)
        s.sendall(data)
        left -= len(data)
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"sending took longer than {timeout}s")
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the receiver closes after reading everything
    seconds = time.monotonic() - t0
    s.close()
    return {"bytes": nbytes, "sha256": digest.hexdigest(), "seconds": round(seconds, 3)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("nbytes", type=int, nargs="?", default=0)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if a.mode == "recv":
        report = receive(a.addr, a.port, a.timeout)
    else:
        report = send(a.addr, a.port, a.nbytes, a.timeout)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
