#!/usr/bin/env bash
# plexus in one command: two nodes in two network namespaces, pinging each other.
#
#   plxd-<pid>-a [ul0 10.111.0.1] <---- veth ----> [ul0 10.111.0.2] plxd-<pid>-b
#        plx0 fd00:1::1 10.0.0.1   <== WireGuard ==>  plx0 fd00:1::2 10.0.0.2
#
# Installs the Debian packages (scripts/install-deps.sh), builds the release preset,
# starts both nodes, pings each way over IPv6 and IPv4, prints `plexus status` of
# both and removes everything again (also on error or Ctrl-C). Run as root.
#
#   scripts/demo.sh                 everything
#   SKIP_DEPS=1 SKIP_BUILD=1 PLEXUS_BIN=/path/to/plexus scripts/demo.sh
#   HOLD=60 scripts/demo.sh         keep the nodes up 60 s before tearing down
#   JOBS=2                          build parallelism (default: nproc)
#
# Nothing leaves the two namespaces; no host interface or setting is touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NS_A=plxd-$$-a
NS_B=plxd-$$-b
UNDER_A=10.111.0.1 UNDER_B=10.111.0.2
IN6_A=fd00:1::1 IN6_B=fd00:1::2
IN4_A=10.0.0.1 IN4_B=10.0.0.2
PORT=51820
WORK=""
PIDS=()

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
say() { printf '    %s\n' "$*"; }
die() { printf '\033[31mdemo FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid ns i
    trap - EXIT INT TERM
    set +e
    ((${#PIDS[@]})) && step "tearing down"
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for ns in "$NS_A" "$NS_B"; do
        ip netns list | awk '{print $1}' | grep -qx "$ns" && ip netns del "$ns"
    done
    if ((rc != 0)) && [[ -n $WORK ]]; then
        for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
    fi
    [[ -n $WORK ]] && rm -rf "$WORK"
    ((rc == 0)) && step "demo finished: both nodes pinged each other over IPv6 and IPv4"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS CMD...
    local _
    for _ in $(seq $(($1 * 10))); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

node_ready() { # PID SOCKET: fails at once (exit 2) when the node has died
    kill -0 "$1" 2>/dev/null || return 2
    "$PLEXUS" status --socket "$2" >/dev/null 2>&1
}

clean_stale() { # namespaces of earlier demo runs whose shell is gone (our prefix only)
    local ns pid
    for ns in $(ip netns list | awk '{print $1}' | grep -E '^plxd-[0-9]+-[ab]$' || true); do
        pid=${ns#plxd-}
        pid=${pid%-*}
        [[ -d /proc/$pid ]] || { say "removing stale namespace $ns"; ip netns del "$ns"; }
    done
}

[[ $(id -u) == 0 ]] || die "run as root (network namespaces and TUN devices need it): sudo $0"

# ------------------------------------------------------------------ deps and build
if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    step "installing Debian packages"
    "$ROOT/scripts/install-deps.sh"
fi
PLEXUS=${PLEXUS_BIN:-$ROOT/build/release/src/cli/plexus}
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    step "building plexus (release preset)"
    (cd "$ROOT" && cmake --preset release >/dev/null &&
        cmake --build build/release --target plexus -j"${JOBS:-$(nproc)}") || die "build failed"
fi
[[ -x $PLEXUS ]] || die "no plexus binary at $PLEXUS"
say "binary: $PLEXUS ($("$PLEXUS" --version 2>/dev/null || echo 'version unknown'))"

# ------------------------------------------------------------------ underlay
step "creating namespaces $NS_A and $NS_B joined by a veth pair"
clean_stale
WORK=$(mktemp -d /tmp/plxd-$$.XXXXXX)
ip netns add "$NS_A"
ip netns add "$NS_B"
ip -n "$NS_A" link add ul0 type veth peer name ul0 netns "$NS_B"
for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n "$NS_A" addr add "$UNDER_A/24" dev ul0
ip -n "$NS_B" addr add "$UNDER_B/24" dev ul0
ip -n "$NS_A" link set ul0 up
ip -n "$NS_B" link set ul0 up
wait_for 5 ip netns exec "$NS_A" ping -c1 -W1 "$UNDER_B" || die "underlay $UNDER_A -> $UNDER_B does not answer"
say "underlay: $UNDER_A <-> $UNDER_B"

# ------------------------------------------------------------------ nodes
step "generating keys and configs"
umask 077
for n in a b; do
    "$PLEXUS" genkey >"$WORK/$n.key" || die "plexus genkey failed"
    "$PLEXUS" pubkey <"$WORK/$n.key" >"$WORK/$n.pub" || die "plexus pubkey failed"
    say "node $n public key $(cat "$WORK/$n.pub")"
done

write_config() { # NODE SELF6 SELF4 PEER PEER_UNDER PEER6 PEER4
    cat >"$WORK/$1.toml" <<EOF
[interface]
private_key_file = "$WORK/$1.key"
listen_port = $PORT
tun = "plx0"
addresses = ["$2/64", "$3/24"]
mtu = 1420
control_socket = "$WORK/$1.sock"

[[peer]]
public_key = "$(cat "$WORK/$4.pub")"
endpoint = "$5:$PORT"
allowed_prefixes = ["$6/128", "$7/32"]
EOF
}
write_config a "$IN6_A" "$IN4_A" b "$UNDER_B" "$IN6_B" "$IN4_B"
write_config b "$IN6_B" "$IN4_B" a "$UNDER_A" "$IN6_A" "$IN4_A"

step "starting the two nodes"
for n in a b; do
    ns=$NS_A
    [[ $n == b ]] && ns=$NS_B
    ip netns exec "$ns" "$PLEXUS" node --config "$WORK/$n.toml" >"$WORK/$n.log" 2>&1 </dev/null &
    PIDS+=($!)
    say "node $n: pid $! in $ns (log $WORK/$n.log)"
done
for i in 0 1; do
    n=$([[ $i == 0 ]] && echo a || echo b)
    for _ in $(seq 150); do
        rc=0
        node_ready "${PIDS[$i]}" "$WORK/$n.sock" || rc=$?
        ((rc == 0)) && break
        ((rc == 2)) && die "node $n exited (see its log below)"
        sleep 0.1
    done
    ((rc == 0)) || die "node $n did not answer on its control socket within 15 s"
    say "node $n is up"
done

# ------------------------------------------------------------------ pings
ping_check() { # FROM_NS FROM TO_ADDR
    wait_for 20 ip netns exec "$1" ping -c1 -W1 "$3" || die "no reply from $3 (node $2 -> peer)"
    local out
    out=$(ip netns exec "$1" ping -c3 -i0.2 -W1 -q "$3" 2>&1) || die "ping $3 from node $2 lost packets: $out"
    say "node $2 -> $3: $(grep -o 'rtt.*' <<<"$out" || echo ok)"
}
step "pinging over IPv6 and IPv4, each way"
ping_check "$NS_A" a "$IN6_B"
ping_check "$NS_B" b "$IN6_A"
ping_check "$NS_A" a "$IN4_B"
ping_check "$NS_B" b "$IN4_A"

for n in a b; do
    step "plexus status (node $n)"
    "$PLEXUS" status --socket "$WORK/$n.sock" || die "plexus status failed on node $n"
done

if [[ ${HOLD:-0} != 0 ]]; then
    step "holding ${HOLD}s: try ip netns exec $NS_A ping $IN6_B"
    sleep "$HOLD"
fi
