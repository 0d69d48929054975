"""Routing through the mesh (DESIGN.md §2.5, §2.6): real `plexus node` processes
in network namespaces, linked statically as mesh peers (no allowed_prefixes), with
Babel choosing the paths.

* a line of 5 nodes: every node pings every other, IPv6 and IPv4 (40 ordered
  pairs), replies come back with the hop limit decremented once per relay;
* a ring of 4: a link n1->n3 traffic uses (n1's first hop, or the second hop)
  is cut silently (nftables drops its UDP, the interface stays up) while n1
  pings n3 every 10 ms; traffic must move to the other path with a gap under
  3 s. Ten cuts each; median/min/max are printed and written as JSON to
  $PLEXUS_FAILOVER_REPORT when set, keyed "first_hop" / "second_hop"
  (docs/PERFORMANCE.md);
* interop with babeld: a plexus node linked to wireguard-go, on whose interface
  a real babeld runs: each learns the other's prefix, pings flow both ways;
  and with babeld on its default timers (4 s Hellos) sparse pings lose nothing
  (plexus must not declare a link down because a standard peer does not probe).

The `harness` runs replace every plexus node by wireguard-go + babeld (one
wireguard-go interface per link): the same tests then check the topology
harness itself, without plexus.

Environment: PLEXUS_BIN (binary under test), PLXT_KEEP=1 (keep configs and
logs), PLEXUS_FAILOVER_REPORT=path (JSON of the ring failover gaps),
PLEXUS_FAILOVER_CUTS (default 10).
"""

import json
import os
import statistics
import time

import pytest

import netns
import topology
from topology import FastPing, Topology

KINDS = [
    pytest.param("plexus", id="plexus"),
    pytest.param("babeld", id="harness-babeld", marks=pytest.mark.harness),
]
FAMILIES = ("ipv6", "ipv4")
CONVERGE_TIMEOUT = 90       # s after start for the whole line to answer
FAILOVER_LIMIT = {"plexus": 3.0, "babeld": 30.0}   # s, the largest gap allowed per cut
FAILOVER_CUTS = {"plexus": int(os.environ.get("PLEXUS_FAILOVER_CUTS", "10")), "babeld": 3}
PING_INTERVAL = 0.01        # s: 10 ms, root only

# explicit [babel] options for the line (the ring and the interop run on defaults)
LINE_BABEL = {
    "hello_interval": 0.5,
    "link_quality": "etx",
    "rtt_min": 10,
    "rtt_max": 120,
    "max_rtt_penalty": 96,
}


# the overlay's prefixes: destinations inside them without a route are unreachable
NETWORKS = ["fd00:1::/48", "10.42.0.0/16"]


def node_kwargs(kind: str, babel: dict, networks=None) -> dict:
    if kind != "plexus":
        return {}
    kw = {"babel": babel} if babel else {}
    if networks:
        kw["networks"] = networks
    return kw


@pytest.fixture(params=KINDS)
def kind(request, plexus_bin):
    if request.param == "plexus" and not plexus_bin:
        pytest.fail("plexus binary not found: set PLEXUS_BIN or build it")
    return request.param


@pytest.fixture
def topo(plexus_bin, request):
    t = Topology(plexus_bin)
    yield t
    t.close(keep_files=netns.failed_in(request))


def fail_with(topo: Topology, message: str):
    pytest.fail(f"{message}\n\n{topo.diagnostics()}", pytrace=False)


def wait_all_pings(topo: Topology, pairs, deadline: float) -> dict:
    """Pings every (src, dst, family) once per round until each has answered
    once or the deadline passes. Returns {(src, dst, family): seconds after the
    call when it first answered}; missing keys never answered."""
    return netns.wait_pings(pairs, deadline, topo.check_alive, wait=2, pause=0.5)


# ------------------------------------------------------------------ line of 5


def test_line_of_five_all_pairs(topo, kind):
    """n1-n2-n3-n4-n5, underlay alternating IPv4 / IPv6 per link: all 20 ordered
    pairs ping each other over IPv6 and IPv4."""
    nodes = topology.line(topo, kind, 5, **node_kwargs(kind, LINE_BABEL))
    t_start = time.monotonic()
    topo.start()
    pairs = [(s, d, fam) for fam in FAMILIES for s in nodes for d in nodes if s is not d]
    answered = wait_all_pings(topo, pairs, t_start + CONVERGE_TIMEOUT)
    missing = [f"{s.name}->{d.name} {fam}" for s, d, fam in pairs if (s, d, fam) not in answered]
    if missing:
        fail_with(topo, f"{len(missing)}/{len(pairs)} pairs never answered within "
                        f"{CONVERGE_TIMEOUT}s: {', '.join(missing)}")
    print(f"line of 5 ({kind}): all {len(pairs)} pairs answered; last after "
          f"{max(answered.values()):.1f}s of pinging "
          f"({time.monotonic() - t_start:.1f}s after start)")
    # and every pair again, now converged: three pings, no loss
    lossy = []
    for s, d, fam in pairs:
        sent, received = s.ping(d, fam, count=3)
        if received != sent:
            lossy.append(f"{s.name}->{d.name} {fam}: {received}/{sent}")
    if lossy:
        fail_with(topo, f"loss after convergence: {lossy}")


def test_line_of_five_routes_and_hop_limit(topo, kind):
    """Next hops follow the line; the metric grows with every hop; a reply from
    n5 reaches n1 with its hop limit / TTL decremented by the 3 relays; with
    [interface] networks set, an address of the overlay nobody announces is
    unreachable at once (plexus only)."""
    nodes = topology.line(topo, kind, 5, **node_kwargs(kind, LINE_BABEL, NETWORKS))
    t_start = time.monotonic()
    topo.start()
    n1, n3, n5 = nodes[0], nodes[2], nodes[-1]
    answered = wait_all_pings(topo, [(n1, n5, f) for f in FAMILIES] +
                              [(n5, n1, f) for f in FAMILIES], t_start + CONVERGE_TIMEOUT)
    if len(answered) != 4:
        fail_with(topo, f"n1 <-> n5 did not answer within {CONVERGE_TIMEOUT}s: {answered}")

    problems = []
    for i, src in enumerate(nodes):
        for j, dst in enumerate(nodes):
            if i == j:
                continue
            expect = nodes[i + 1] if j > i else nodes[i - 1]
            for fam in FAMILIES:
                got = src.next_hop_node(dst, fam)
                if got is not expect:
                    problems.append(f"{src.name} -> {dst.name} ({fam}): next hop "
                                    f"{got.name if got else None}, expected {expect.name}")
    if kind == "plexus":
        routes = n1.routes()
        for fam in FAMILIES:
            metrics = []
            for dst in nodes[1:]:
                r = n1.selected_route(dst.prefix(fam))
                if not r:
                    problems.append(f"n1: no selected route to {dst.prefix(fam)}")
                    continue
                metrics.append(r["metric"])
                if r.get("local"):
                    problems.append(f"n1: route to {dst.prefix(fam)} marked local")
            if len(metrics) == 4 and not all(a < b for a, b in zip(metrics, metrics[1:])):
                problems.append(f"n1 {fam}: metrics to n2..n5 not increasing: {metrics}")
        own = [r for r in routes.get("routes", []) if r.get("local")]
        own_prefixes = {r.get("prefix") for r in own}
        for fam in FAMILIES:
            if n1.prefix(fam) not in own_prefixes:
                problems.append(f"n1 does not list its own {n1.prefix(fam)} as local "
                                f"(local: {sorted(own_prefixes)})")
        neigh = routes.get("neighbours", [])
        if [x.get("peer") for x in neigh] != [nodes[1].public_key]:
            problems.append(f"n1 neighbours: {neigh}, expected only n2")

    for fam in FAMILIES:
        p = n1.ns.run(["ping", "-n", "-c", "1", "-W", "2", "-I", n1.addr(fam), n5.addr(fam)],
                      check=False)
        ttl = [int(t.split("=")[1]) for t in p.stdout.split() if t.startswith(("ttl=", "hlim="))]
        if ttl != [64 - 3]:
            problems.append(f"n1 -> n5 {fam}: reply ttl/hlim {ttl}, expected [61] "
                            f"(64 minus 3 relays)\n{p.stdout}")
    if kind == "plexus":
        for fam, addr in (("ipv6", "fd00:1:0:99::1"), ("ipv4", "10.42.99.1")):
            t0 = time.monotonic()
            # no -I: with a source address bound, ping does not report the local
            # unreachable route's error and just times out
            p = n3.ns.run(["ping", "-n", "-c", "1", "-W", "5", addr], check=False, timeout=30)
            took = time.monotonic() - t0
            text = p.stdout + p.stderr
            if p.returncode == 0 or took > 3 or \
                    not any(w in text for w in ("nreachable", "No route to host")):
                problems.append(f"n3 -> {addr} (inside {NETWORKS}, announced by nobody): "
                                f"expected unreachable at once; rc {p.returncode} after "
                                f"{took:.1f}s:\n{text}")
    if problems:
        fail_with(topo, "\n".join(problems))


# ------------------------------------------------------------------ ring of 4


def median(xs):
    return statistics.median(xs) if xs else None


CUT_WHERE = {
    "first_hop": "the link from n1 to the next hop of its selected route to n3",
    "second_hop": "the link from that next hop on to n3 (n1 learns of it through Babel)",
}


def write_failover_report(kind: str, where: str, cuts: list[dict]) -> dict:
    """Summary of one ring run; merged under key `where` into the JSON file
    $PLEXUS_FAILOVER_REPORT (plexus runs only)."""
    gaps = [c["gap_s"] for c in cuts if c["gap_s"] is not None]
    summary = {
        "test": f"tests/system/test_routing.py::test_ring_of_four_failover[{kind}-{where}]",
        "kind": kind,
        "topology": "ring of 4 (n1-n2-n3-n4-n1), veth underlay, ping n1->n3 (IPv6) every "
                    f"{int(PING_INTERVAL * 1000)} ms, silent cut (nftables drops all UDP "
                    f"on one veth, both directions) of {CUT_WHERE[where]}",
        "gap_definition": "longest time between consecutive echo replies (ping -D receive "
                          "times) around the cut",
        "cuts": len(cuts),
        "recovered": len(gaps),
        "gap_median_s": median(gaps),
        "gap_min_s": min(gaps) if gaps else None,
        "gap_max_s": max(gaps) if gaps else None,
        "lost_median": median([c["lost"] for c in cuts]),
        "per_cut": cuts,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "plexus_bin": netns.find_plexus() if kind == "plexus" else None,
    }
    path = os.environ.get("PLEXUS_FAILOVER_REPORT")
    if path and kind == "plexus":
        report = {}
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError):
            pass
        if not isinstance(report, dict):
            report = {}
        report[where] = summary
        with open(path, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return summary


@pytest.mark.parametrize("where", list(CUT_WHERE))
def test_ring_of_four_failover(topo, kind, where):
    """Cut a link in use under a 10 ms ping n1 -> n3 (IPv6), ten times: the first
    hop (n1 itself sees the link go silent) or the second (n1 learns it from Babel).
    The side whose namespace drops the packets alternates."""
    nodes = topology.ring(topo, kind, 4)
    n1, n2, n3, n4 = nodes
    t_start = time.monotonic()
    topo.start()
    if len(wait_all_pings(topo, [(n1, n3, "ipv6"), (n3, n1, "ipv6")],
                          t_start + CONVERGE_TIMEOUT)) != 2:
        fail_with(topo, "n1 <-> n3 never answered")

    limit = FAILOVER_LIMIT[kind]
    cuts: list[dict] = []
    problems: list[str] = []
    for i in range(FAILOVER_CUTS[kind]):
        topo.check_alive()
        # the path in use now
        before = netns.wait_until(lambda: n1.next_hop_node(n3), 30, "n1 has a route to n3")
        other = n4 if before is n2 else n2
        near = n1 if where == "first_hop" else before   # the end nearer n1
        link = near.link_to(before if where == "first_hop" else n3)
        # the packets are dropped at the near end on cuts 1, 2, 5, 6, ..., else the far
        # end (the links in use alternate, so each link is cut from both ends)
        side = near if (i // 2) % 2 == 0 else link.other(near)
        ping = FastPing(n1, n3, "ipv6", PING_INTERVAL)
        try:
            netns.wait_until(lambda: len(ping.replies()) >= 50, 10, "ping replies before the cut")
            t_cut = time.time()
            link.cut(side)

            def flowing_again() -> bool:
                rs = [t for t, _ in ping.replies() if t > t_cut]
                now = time.time()
                recent = [t for t in rs if t > now - 1.0]
                # 1 s of replies after the cut, most of the last second answered
                return bool(rs) and now - t_cut > 1.0 and len(recent) >= 50 and \
                    max(recent) - t_cut > 1.0
            try:
                netns.wait_until(flowing_again, limit + 10, "replies after the cut", 0.2)
                recovered = True
            except netns.TimeoutExpired:
                recovered = False
        finally:
            ping.stop()
        gap = FastPing.gap_after(ping.replies(), t_cut, PING_INTERVAL)
        after = n1.next_hop_node(n3)
        record = {
            "cut": i + 1,
            "link": f"{link.a.name}-{link.b.name}",
            "dropped_in": side.name,
            "next_hop_before": before.name,
            "next_hop_after": after.name if after else None,
            "gap_s": round(gap["seconds"], 4) if recovered and gap["seconds"] else None,
            "lost": gap["lost"],
            "lost_s": round(gap["lost_seconds"], 3),
            "send_interval_ms": round(gap.get("send_interval", PING_INTERVAL) * 1000, 2),
        }
        cuts.append(record)
        print(f"cut {i + 1}: {record}")
        if not recovered:
            problems.append(f"cut {i + 1}: ping n1->n3 did not recover within {limit + 10}s "
                            f"of cutting {record['link']} ({gap['replies_after']} replies after "
                            f"the cut)")
        elif gap["seconds"] >= limit:
            problems.append(f"cut {i + 1}: gap {gap['seconds']:.3f}s >= {limit}s")
        if after is not other:
            problems.append(f"cut {i + 1}: n1's next hop to n3 is "
                            f"{after.name if after else None} after cutting the link to "
                            f"{before.name}; expected {other.name}")
        if problems and not recovered:
            break
        # restore and wait until the link is a live neighbour again on both ends
        link.restore()
        try:
            netns.wait_until(lambda: link.a.neighbour_up(link.b) and link.b.neighbour_up(link.a),
                             60, f"link {record['link']} up again after restore", 0.25)
            netns.wait_until(lambda: n1.ping_ok(n3, "ipv6"), 30, "n1 -> n3 after restore")
        except netns.TimeoutExpired as e:
            problems.append(f"after cut {i + 1}: {e}")
            break
        time.sleep(2)  # let the restored link's cost settle before the next cut

    summary = write_failover_report(kind, where, cuts)
    print(f"ring of 4 failover ({kind}, {where}): {summary['recovered']}/{summary['cuts']} cuts "
          f"recovered; gap median {summary['gap_median_s']} s, min {summary['gap_min_s']} s, "
          f"max {summary['gap_max_s']} s")
    if problems:
        fail_with(topo, "\n".join(problems) + "\n\nper cut:\n" +
                  "\n".join(json.dumps(c) for c in cuts))


# ------------------------------------------------------------------ babeld interop


@pytest.fixture(scope="module", params=KINDS)
def babeld_pair(request, plexus_bin):
    """n1 (plexus, or babeld for the harness run) linked to n2: wireguard-go with
    babeld on its interface (fe80::2:1/64, allowed-ips ::/0, 0.0.0.0/0),
    announcing n2's /64 and /24 from a dummy interface."""
    if request.param == "plexus" and not plexus_bin:
        pytest.fail("plexus binary not found: set PLEXUS_BIN or build it")
    t = Topology(plexus_bin)
    try:
        n1 = t.add_node("n1", request.param,
                        **node_kwargs(request.param, {"hello_interval": 0.5}))
        n2 = t.add_node("n2", "babeld")
        t.link(n1, n2, "ipv4")
        t.start()
        yield t, n1, n2
    finally:
        t.close()


@pytest.mark.parametrize("family", FAMILIES)
def test_babeld_learns_plexus_prefix(babeld_pair, family):
    topo, n1, n2 = babeld_pair
    wg = n2.wg[n2.link_to(n1)]

    def learned():
        out = n2.babel_routes(family)
        return any(line.startswith(n1.prefix(family) + " ") and f"dev {wg}" in line
                   for line in out.splitlines())
    try:
        netns.wait_until(learned, 60, f"babeld installs {n1.prefix(family)} via {wg}", 0.5)
    except netns.TimeoutExpired as e:
        fail_with(topo, str(e))
    assert f"prefix {n1.prefix(family)} " in n2.babeld_dump()


@pytest.mark.parametrize("family", FAMILIES)
def test_plexus_learns_babeld_prefix(babeld_pair, family):
    topo, n1, n2 = babeld_pair
    try:
        netns.wait_until(lambda: n1.next_hop_node(n2, family) is n2, 60,
                         f"{n1.name} selects {n2.prefix(family)} via {n2.name}", 0.5)
    except netns.TimeoutExpired as e:
        fail_with(topo, str(e))
    if n1.kind == "plexus":
        r = n1.selected_route(n2.prefix(family))
        assert r and not r["local"] and r["feasible"] and r["metric"] < 0xFFFF, r
        # the kernel route plexus installs on its TUN
        out = n1.ns.ip("-6" if family == "ipv6" else "-4", "route", "show",
                       n2.prefix(family)).stdout
        assert f"dev {n1.tun}" in out, f"no kernel route to {n2.prefix(family)} on " \
                                       f"{n1.tun}: {out!r}"


@pytest.mark.parametrize("family", FAMILIES)
def test_babeld_ping_both_ways(babeld_pair, family):
    topo, n1, n2 = babeld_pair
    answered = wait_all_pings(topo, [(n1, n2, family), (n2, n1, family)],
                              time.monotonic() + 60)
    if len(answered) != 2:
        fail_with(topo, f"pings n1 <-> n2 ({family}) answered: "
                        f"{[(s.name, d.name) for s, d, _ in answered]}")
    for src, dst in ((n1, n2), (n2, n1)):
        sent, received = src.ping(dst, family, count=5, interval=0.1)
        assert received == sent, f"{src.name} -> {dst.addr(family)}: {received}/{sent}"


@pytest.mark.parametrize("kind", [
    pytest.param("plexus", id="plexus"),
    pytest.param("babeld", id="harness-babeld", marks=pytest.mark.harness),
])
def test_babeld_default_timers_sparse_traffic(plexus_bin, kind):
    """babeld with its default timers (Hellos every 4 s) is a standard neighbour:
    the link must not go down between its Hellos. One ping every 1.5 s for 30 s
    after 10 s of silence, both ways, loses nothing."""
    t = Topology(plexus_bin)
    try:
        n1 = t.add_node("n1", kind)
        n2 = t.add_node("n2", "babeld", hello_interval=None)
        t.link(n1, n2, "ipv4")
        t.start()
        if len(wait_all_pings(t, [(n1, n2, "ipv6"), (n2, n1, "ipv6")],
                              time.monotonic() + 60)) != 2:
            fail_with(t, "n1 <-> n2 never answered")
        time.sleep(10)
        results = {}
        for src, dst in ((n1, n2), (n2, n1)):
            results[f"{src.name}->{dst.name}"] = src.ping(dst, "ipv6", count=10, interval=1.5)
        lost = {k: v for k, v in results.items() if v[1] != v[0]}
        if lost:
            extra = ""
            if kind == "plexus":
                log = n1.daemon.log_text()
                extra = f"\nplexus log: 'went silent' {log.count('went silent')} times"
            fail_with(t, f"sparse pings lost (sent, received): {results}{extra}")
    finally:
        t.close()
