#!/usr/bin/env bash
# TCP throughput through plexus and through Debian's wireguard-go, over the same veth
# pair in the same run: ROUNDS rounds, each bringing up one system after the other
# (alternating), measuring iperf3 a->b and b->a (-R), and tearing it down. Prints
# Mbit/s per run, the medians, and the ratio plexus / wireguard-go.
#
#   plxb-<pid>-a [ul0 10.112.0.1/24] <--- veth, MTU 1500 ---> [ul0 10.112.0.2/24] plxb-<pid>-b
#   tunnel inside: 10.112.1.1 <-> 10.112.1.2 (and fd00:112::1/2), tunnel MTU 1420
#
# Run as root (Debian 12: iperf3 jq wireguard-go wireguard-tools iproute2 iputils-ping).
# Knobs (environment):
#   ROUNDS=3              rounds (each system measured once per round)
#   IPERF_TIME=10         seconds per iperf3 run
#   TCP_CC=cubic          iperf3 -C (per socket, no sysctl touched); "" = namespace default
#   SYSTEMS="plexus wireguard-go"   what to measure (e.g. SYSTEMS=wireguard-go to check the script)
#   PLEXUS_BIN=...        default: build/release/src/cli/plexus beside this script
#   OUT=DIR               keep results.tsv, iperf3 JSON and daemon logs in DIR
#                         (default: a temporary directory, removed at exit)
#
# Everything stays inside the two namespaces; they, and every process this script
# started (stopped by PID), are removed on exit, also on error or Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
IPERF_TIME=${IPERF_TIME:-10}
TCP_CC=${TCP_CC-cubic}
SYSTEMS=${SYSTEMS:-plexus wireguard-go}
PLEXUS=${PLEXUS_BIN:-$ROOT/build/release/src/cli/plexus}
TUN_MTU=1420
PORT=51820

NS_A=plxb-$$-a
NS_B=plxb-$$-b
UNDER_A=10.112.0.1 UNDER_B=10.112.0.2
IN4_A=10.112.1.1 IN4_B=10.112.1.2
IN6_A=fd00:112::1 IN6_B=fd00:112::2
WG_A=pxb$$a WG_B=pxb$$b          # the wireguard-go UAPI socket dir is shared by all namespaces

WORK=""
SYS_PIDS=()       # daemons of the system currently up
IPERF_PID=""

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
nsa() { ip netns exec "$NS_A" "$@"; }
nsb() { ip netns exec "$NS_B" "$@"; }

stop_pid() { # TERM, up to 5 s, then KILL; this PID only
    local pid=$1 _
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

wait_for() { # SECONDS CMD...
    local _
    for _ in $(seq $(($1 * 10))); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

cleanup() {
    local rc=$? ns
    trap - EXIT INT TERM
    set +e
    system_down
    [[ -n $IPERF_PID ]] && stop_pid "$IPERF_PID"
    for ns in "$NS_A" "$NS_B"; do
        ip netns list | awk '{print $1}' | grep -qx "$ns" && ip netns del "$ns"
    done
    if [[ -z ${OUT:-} && -n $WORK ]]; then
        ((rc != 0)) && for f in "$WORK"/*.log; do
            [[ -s $f ]] && { echo "--- $f"; tail -n 20 "$f"; }
        done >&2
        rm -rf "$WORK"
    fi
    exit "$rc"
}

clean_stale() { # namespaces of earlier runs whose shell is gone (our prefix only)
    local ns pid
    for ns in $(ip netns list | awk '{print $1}' | grep -E '^plxb-[0-9]+-[ab]$' || true); do
        pid=${ns#plxb-}
        pid=${pid%-*}
        if [[ ! -d /proc/$pid ]]; then
            log "removing stale namespace $ns"
            for p in $(ip netns pids "$ns"); do stop_pid "$p"; done
            ip netns del "$ns"
        fi
    done
}

underlay_up() {
    clean_stale
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    ip -n "$NS_A" link add ul0 mtu 1500 type veth peer name ul0 mtu 1500 netns "$NS_B"
    local ns
    for ns in "$NS_A" "$NS_B"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 >/dev/null
    done
    ip -n "$NS_A" addr add "$UNDER_A/24" dev ul0
    ip -n "$NS_B" addr add "$UNDER_B/24" dev ul0
    ip -n "$NS_A" link set ul0 up
    ip -n "$NS_B" link set ul0 up
    wait_for 5 nsa ping -c1 -W1 "$UNDER_B" || die "underlay does not answer"
}

start_daemon() { # a|b LOGNAME CMD...
    local side=$1 name=$2 ns=$NS_A
    shift 2
    [[ $side == b ]] && ns=$NS_B
    ip netns exec "$ns" "$@" >>"$WORK/$name.log" 2>&1 </dev/null &
    SYS_PIDS+=($!)
    sleep 0.2
    kill -0 "$!" 2>/dev/null || die "$name exited at once: $(tail -n 5 "$WORK/$name.log")"
}

system_down() {
    local i
    for ((i = ${#SYS_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${SYS_PIDS[$i]}"; done
    SYS_PIDS=()
    rm -f "/var/run/wireguard/$WG_A.sock" "/var/run/wireguard/$WG_B.sock"
}

# ------------------------------------------------------------------ systems
KEYS_DONE=0
make_keys() {
    ((KEYS_DONE)) && return 0
    umask 077
    wg genkey >"$WORK/a.key"
    wg genkey >"$WORK/b.key"
    wg pubkey <"$WORK/a.key" >"$WORK/a.pub"
    wg pubkey <"$WORK/b.key" >"$WORK/b.pub"
    KEYS_DONE=1
}

plexus_config() { # SIDE SELF6 SELF4 PEER PEER_UNDER PEER6 PEER4
    cat >"$WORK/plexus-$1.toml" <<EOF
[interface]
private_key_file = "$WORK/$1.key"
listen_port = $PORT
tun = "plx0"
addresses = ["$2/64", "$3/24"]
mtu = $TUN_MTU
control_socket = "$WORK/plexus-$1.sock"

[[peer]]
public_key = "$(cat "$WORK/$4.pub")"
endpoint = "$5:$PORT"
allowed_prefixes = ["$6/128", "$7/32"]
EOF
}

up_plexus() {
    plexus_config a "$IN6_A" "$IN4_A" b "$UNDER_B" "$IN6_B" "$IN4_B"
    plexus_config b "$IN6_B" "$IN4_B" a "$UNDER_A" "$IN6_A" "$IN4_A"
    start_daemon a plexus-a "$PLEXUS" node --config "$WORK/plexus-a.toml"
    start_daemon b plexus-b "$PLEXUS" node --config "$WORK/plexus-b.toml"
}

up_wireguard_go() {
    start_daemon a wireguard-go-a env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$WG_A"
    start_daemon b wireguard-go-b env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$WG_B"
    wait_for 10 test -S "/var/run/wireguard/$WG_A.sock" || die "wireguard-go a: no UAPI socket"
    wait_for 10 test -S "/var/run/wireguard/$WG_B.sock" || die "wireguard-go b: no UAPI socket"
    nsa wg set "$WG_A" listen-port $PORT private-key "$WORK/a.key" \
        peer "$(cat "$WORK/b.pub")" allowed-ips "$IN6_B/128,$IN4_B/32" endpoint "$UNDER_B:$PORT"
    nsb wg set "$WG_B" listen-port $PORT private-key "$WORK/b.key" \
        peer "$(cat "$WORK/a.pub")" allowed-ips "$IN6_A/128,$IN4_A/32" endpoint "$UNDER_A:$PORT"
    local side ifc addr6 addr4
    for side in a b; do
        if [[ $side == a ]]; then ifc=$WG_A addr6=$IN6_A addr4=$IN4_A; else ifc=$WG_B addr6=$IN6_B addr4=$IN4_B; fi
        ip netns exec "$([[ $side == a ]] && echo "$NS_A" || echo "$NS_B")" sh -c "
            ip addr add $addr6/64 dev $ifc nodad && ip addr add $addr4/24 dev $ifc &&
            ip link set $ifc mtu $TUN_MTU up"
    done
}

# ------------------------------------------------------------------ measuring
pid_ticks() { # utime+stime of the given PIDs, in clock ticks
    local t=0 pid s
    for pid in "$@"; do
        s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        s=${s##*) }
        t=$((t + $(awk '{print $12 + $13}' <<<"$s")))
    done
    echo "$t"
}

# iperf SYSTEM ROUND DIR(fwd|rev) -> prints "MBPS CPU%" (CPU of both daemons, % of one core)
iperf() {
    local sys=$1 round=$2 dir=$3 json="$WORK/$1-$2-$3.json" extra=() cc=()
    [[ $dir == rev ]] && extra=(-R)
    [[ -n $TCP_CC ]] && cc=(-C "$TCP_CC")
    local t0 c0 t1 c1
    t0=$(date +%s.%N)
    c0=$(pid_ticks "${SYS_PIDS[@]}")
    if ! nsa timeout $((IPERF_TIME + 30)) iperf3 -c "$IN4_B" -t "$IPERF_TIME" -J "${cc[@]}" "${extra[@]}" \
        >"$json" 2>"$WORK/$sys-$round-$dir.err"; then
        log "iperf3 $sys $dir failed: $(jq -r '.error // empty' "$json" 2>/dev/null)"
        echo "FAIL -"
        return 0
    fi
    t1=$(date +%s.%N)
    c1=$(pid_ticks "${SYS_PIDS[@]}")
    printf '%s %s\n' "$(jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | round / 10' "$json")" \
        "$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", 100*d/hz/(b-a)}')"
}

measure() { # SYSTEM ROUND
    local sys=$1 round=$2
    log "round $round: $sys up"
    make_keys
    case $sys in
        plexus) up_plexus ;;
        wireguard-go) up_wireguard_go ;;
        *) die "unknown system $sys" ;;
    esac
    if ! wait_for 30 nsa ping -c1 -W1 -q "$IN4_B"; then
        system_down
        log "$sys: no ping through the tunnel within 30 s"
        printf '%s\t%s\tFAIL\t-\tFAIL\t-\n' "$sys" "$round" >>"$TSV"
        return 0
    fi
    nsa ping -c5 -i0.2 -q "$IN4_B" >/dev/null 2>&1 || true
    local fwd rev
    read -r fwd fwd_cpu < <(iperf "$sys" "$round" fwd)
    read -r rev rev_cpu < <(iperf "$sys" "$round" rev)
    log "round $round: $sys  a->b $fwd Mbit/s (daemons ${fwd_cpu}% cpu)  b->a $rev Mbit/s (${rev_cpu}%)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$round" "$fwd" "$fwd_cpu" "$rev" "$rev_cpu" >>"$TSV"
    system_down
}

median() { # SYSTEM COLUMN -> median of the numeric values
    awk -F'\t' -v s="$1" -v c="$2" '$1 == s && $c ~ /^[0-9.]+$/ {print $c}' "$TSV" | sort -g |
        awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
             else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-"}'; }

summary() {
    echo
    printf '%-14s %8s %14s %14s %12s %12s\n' system runs "a->b Mbit/s" "b->a Mbit/s" "cpu% a->b" "cpu% b->a"
    local sys
    for sys in $SYSTEMS; do
        printf '%-14s %8s %14s %14s %12s %12s\n' "$sys" \
            "$(awk -F'\t' -v s="$sys" '$1 == s' "$TSV" | wc -l)" \
            "$(median "$sys" 3)" "$(median "$sys" 5)" "$(median "$sys" 4)" "$(median "$sys" 6)"
    done
    if [[ " $SYSTEMS " == *" plexus "* && " $SYSTEMS " == *" wireguard-go "* ]]; then
        printf 'ratio plexus / wireguard-go (medians): a->b %s  b->a %s\n' \
            "$(ratio "$(median plexus 3)" "$(median wireguard-go 3)")" \
            "$(ratio "$(median plexus 5)" "$(median wireguard-go 5)")"
    fi
    echo "(medians of $ROUNDS rounds, iperf3 TCP ${IPERF_TIME}s, single stream, -C ${TCP_CC:-default}, tunnel MTU $TUN_MTU)"
    if [[ -n ${OUT:-} ]]; then echo "raw results, iperf3 JSON and daemon logs: $WORK"; fi
}

main() {
    [[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
    local dep
    for dep in iperf3 jq ping ip wg timeout; do
        command -v "$dep" >/dev/null || die "missing $dep (scripts/install-deps.sh installs it)"
    done
    [[ " $SYSTEMS " == *" wireguard-go "* ]] && { command -v wireguard-go >/dev/null || die "missing wireguard-go"; }
    [[ " $SYSTEMS " == *" plexus "* ]] && { [[ -x $PLEXUS ]] ||
        die "no plexus binary at $PLEXUS (cmake --preset release && cmake --build build/release --target plexus), or set PLEXUS_BIN / SYSTEMS=wireguard-go"; }
    if [[ -n ${OUT:-} ]]; then
        mkdir -p "$OUT"
        WORK=$(cd "$OUT" && pwd)
    else
        WORK=$(mktemp -d "/tmp/plxb-$$.XXXXXX")
    fi
    TSV=$WORK/results.tsv
    printf 'system\tround\tfwd_mbps\tfwd_cpu_pct\trev_mbps\trev_cpu_pct\n' >"$TSV"
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    log "underlay: $NS_A <-> $NS_B; systems: $SYSTEMS; $ROUNDS rounds of ${IPERF_TIME}s each way"
    underlay_up
    nsb iperf3 -s >"$WORK/iperf3-server.log" 2>&1 </dev/null &
    IPERF_PID=$!
    wait_for 10 nsb sh -c 'ss -Hltn "sport = :5201" | grep -q .' || die "iperf3 server did not start"

    local round sys
    for round in $(seq "$ROUNDS"); do
        for sys in $SYSTEMS; do measure "$sys" "$round"; done
    done
    summary
}

main "$@"
