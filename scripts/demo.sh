#!/usr/bin/env bash
# plexus in one command: a registry and a mesh of four nodes in a ring, each in
# its own network namespace.
#
#        n1 ---- n2        each line: a veth underlay (10.111.L.0/24) carrying one
#        |        |        WireGuard-protocol link; Babel runs inside every link.
#        n4 ---- n3        the registry: its own namespace, on a management bridge
#                          (10.111.100.0/24) that every node reaches
#
# Installs the Debian packages (scripts/install-deps.sh), builds the release preset,
# creates a network (`plexus registry init`: CA, fd00:1::/48, 10.42.0.0/16), serves
# it, and joins the four nodes with one token (`plexus join URL`: keys, certificate,
# prefix, config). The nodes link in a ring; each link carries nothing but
# certificate exchange until the peer's certificate checks out. Then it waits for
# routing to converge, pings every node from every node over IPv6 and IPv4
# (opposite corners are relayed by a neighbour), shows `plexus routes`, silently
# cuts the link that n1's traffic to n3 uses (nftables drop) during a 10 ms ping
# and reports how long the traffic took to go round the other way, and finally
# revokes n3 at the registry and reports how soon its neighbours cut it off.
# Everything is removed again (also on error or Ctrl-C). Run as root.
#
#   scripts/demo.sh                 everything
#   SKIP_DEPS=1 SKIP_BUILD=1 PLEXUS_BIN=/path/to/plexus scripts/demo.sh
#   HOLD=60 scripts/demo.sh         keep the mesh up 60 s before tearing down
#   JOBS=2                          build parallelism (default: nproc)
#
# Nothing leaves the four namespaces; no host interface or setting is touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODES=(1 2 3 4)
LINKS=("1 2" "2 3" "3 4" "4 1") # link L (1-based) joins these two nodes
PORT=51820
WORK=""
PIDS=()

ns() { echo "plxd-$$-n$1"; }
REG_NS="plxd-$$-r"
REG_IP=10.111.100.1
declare -A ADDR6 ADDR4 PREFIX6 # from `plexus join`
in6() { echo "${ADDR6[$1]}"; }
in4() { echo "${ADDR4[$1]}"; }
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
say() { printf '    %s\n' "$*"; }
die() { printf '\033[31mdemo FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM
    set +e
    ((${#PIDS[@]})) && step "tearing down"
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for n in "${NODES[@]/#/n}" r; do
        local name="plxd-$$-$n"
        ip netns list | awk '{print $1}' | grep -qx "$name" && ip netns del "$name"
    done
    if ((rc != 0)) && [[ -n $WORK ]]; then
        for f in "$WORK"/*.log; do [[ -s $f ]] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
    fi
    [[ -n $WORK ]] && rm -rf "$WORK"
    ((rc == 0)) && step "demo finished: four nodes joined by token, reached each other over IPv6 and IPv4, went round a cut link, and cut off a revoked node"
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
    local n pid
    for n in $(ip netns list | awk '{print $1}' | grep -E '^plxd-[0-9]+-(a|b|r|n[0-9]+)$' || true); do
        pid=${n#plxd-}
        pid=${pid%-*}
        [[ -d /proc/$pid ]] || { say "removing stale namespace $n"; ip netns del "$n"; }
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
step "creating a namespace per node and a veth pair per link"
clean_stale
WORK=$(mktemp -d /tmp/plxd-$$.XXXXXX)
for i in "${NODES[@]}"; do
    ip netns add "$(ns "$i")"
    ip -n "$(ns "$i")" link set lo up
    ip netns exec "$(ns "$i")" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
for l in "${!LINKS[@]}"; do
    read -r a b <<<"${LINKS[$l]}"
    L=$((l + 1))
    ip -n "$(ns "$a")" link add "to$b" type veth peer name "to$a" netns "$(ns "$b")"
    ip -n "$(ns "$a")" addr add "10.111.$L.1/24" dev "to$b"
    ip -n "$(ns "$b")" addr add "10.111.$L.2/24" dev "to$a"
    ip -n "$(ns "$a")" link set "to$b" up
    ip -n "$(ns "$b")" link set "to$a" up
    wait_for 5 ip netns exec "$(ns "$a")" ping -c1 -W1 "10.111.$L.2" ||
        die "the underlay of link n$a-n$b does not answer"
    say "link n$a-n$b: underlay 10.111.$L.1 <-> 10.111.$L.2"
done
ip netns add "$REG_NS"
ip -n "$REG_NS" link set lo up
ip -n "$REG_NS" link add mgmt type bridge
ip -n "$REG_NS" addr add "$REG_IP/24" dev mgmt
ip -n "$REG_NS" link set mgmt up
for i in "${NODES[@]}"; do
    ip -n "$REG_NS" link add "n$i" type veth peer name mgmt netns "$(ns "$i")"
    ip -n "$REG_NS" link set "n$i" master mgmt up
    ip -n "$(ns "$i")" addr add "10.111.100.$((10 + i))/24" dev mgmt
    ip -n "$(ns "$i")" link set mgmt up
done
say "registry namespace $REG_NS at $REG_IP, on a bridge to every node"

# ------------------------------------------------------------------ registry
step "creating the network and serving its registry"
"$PLEXUS" registry init --name demo --dir "$WORK/reg" --prefix fd00:1::/48 \
    --ipv4 10.42.0.0/16 --ipv4-node-prefix-length 24 >"$WORK/init.log" 2>&1 ||
    die "plexus registry init failed: $(cat "$WORK/init.log")"
sed 's/^/    /' "$WORK/init.log"
ip netns exec "$REG_NS" "$PLEXUS" registry serve --dir "$WORK/reg" --listen "$REG_IP" --port 8443 \
    --host "$REG_IP" >"$WORK/registry.log" 2>&1 </dev/null &
PIDS+=($!)
wait_for 15 test -s "$WORK/reg/serve.json" || die "the registry did not start"
URL=$("$PLEXUS" registry token create --dir "$WORK/reg" --uses 4 --expires 1h --json | jq -r .url)
say "registry up (pid ${PIDS[-1]}); a token for four nodes: $URL"

# ------------------------------------------------------------------ nodes
step "joining the four nodes with that token"
for i in "${NODES[@]}"; do
    out=$(ip netns exec "$(ns "$i")" "$PLEXUS" join "$URL" --dir "$WORK/n$i" --name "n$i" \
        --tun plx0 2>&1) || die "plexus join for n$i failed: $out"
    PREFIX6[$i]=$(awk '$1 == "prefix:" {print $2}' <<<"$out")
    ADDR6[$i]=$(awk '$1 == "address:" {print $2}' <<<"$out")
    a4=$(awk '$1 == "ipv4:" {print $2}' <<<"$out")
    ADDR4[$i]=${a4%.*}.1
    [[ -n ${PREFIX6[$i]} && -n ${ADDR6[$i]} && -n $a4 ]] || die "plexus join printed no prefix: $out"
    say "n$i: prefix ${PREFIX6[$i]} (address ${ADDR6[$i]}), IPv4 $a4"
done
# The ring: the join's config with this demo's control socket and ring peers
# (join lists the peers the registry knows, none yet: no node has run).
for i in "${NODES[@]}"; do
    sed -e "/^\[interface\]/a listen_port = $PORT\ncontrol_socket = \"$WORK/n$i.sock\"" \
        -e '/^\[\[peer\]\]/,$d' "$WORK/n$i/node.toml" >"$WORK/n$i.toml"
    grep -q '^\[identity\]' "$WORK/n$i.toml" || printf '\n[identity]\ndir = "%s"\n' "$WORK/n$i" >>"$WORK/n$i.toml"
    printf 'registry_interval = 5\n\n[babel]\nhello_interval = 1.0\nseqno_file = "%s"\n' \
        "$WORK/n$i.seqno" >>"$WORK/n$i.toml"
    "$PLEXUS" pubkey <"$WORK/n$i/wireguard.key" >"$WORK/n$i.pub"
done
peer() { # FILE KEYFILE ENDPOINT: a [[peer]] without allowed_prefixes is a mesh link
    printf '\n[[peer]]\npublic_key = "%s"\nendpoint = "%s:%s"\n' "$(cat "$2")" "$3" "$PORT" >>"$1"
}
for l in "${!LINKS[@]}"; do
    read -r a b <<<"${LINKS[$l]}"
    L=$((l + 1))
    peer "$WORK/n$a.toml" "$WORK/n$b.pub" "10.111.$L.2"
    peer "$WORK/n$b.toml" "$WORK/n$a.pub" "10.111.$L.1"
done

step "starting the nodes"
for i in "${NODES[@]}"; do
    ip netns exec "$(ns "$i")" "$PLEXUS" node --config "$WORK/n$i.toml" >"$WORK/n$i.log" 2>&1 </dev/null &
    PIDS+=($!)
    say "node n$i: pid $! in $(ns "$i"), overlay $(in6 "$i") and $(in4 "$i")"
done
for i in "${NODES[@]}"; do
    for _ in $(seq 150); do
        rc=0
        node_ready "${PIDS[$((i - 1))]}" "$WORK/n$i.sock" || rc=$?
        ((rc == 0)) && break
        ((rc == 2)) && die "node n$i exited (see its log below)"
        sleep 0.1
    done
    ((rc == 0)) || die "node n$i did not answer on its control socket within 15 s"
done

# ------------------------------------------------------------------ routing
route_peer() { # NODE DEST_NODE: the public key of the peer NODE routes DEST_NODE's prefix through
    "$PLEXUS" routes --json --socket "$WORK/n$1.sock" 2>/dev/null |
        jq -r --arg p "${PREFIX6[$2]}" '.routes[] | select(.prefix == $p and .selected) | .peer'
}
has_route() { [[ -n $(route_peer "$1" "$2") ]]; }

step "waiting for routing to converge"
SECONDS=0
for i in "${NODES[@]}"; do
    for j in "${NODES[@]}"; do
        ((i == j)) || wait_for 30 has_route "$i" "$j" || die "node n$i has no route to n$j after 30 s"
    done
done
say "every node has a route to every other after ${SECONDS} s"
# ETX measures loss over the last 16 Hellos: a new link starts expensive and
# costs what it should after ~16 s. Failover is shown on settled links.
settled() {
    local i
    for i in "${NODES[@]}"; do
        "$PLEXUS" routes --json --socket "$WORK/n$i.sock" 2>/dev/null |
            jq -e '(.neighbours | length) == 2 and all(.neighbours[]; .cost <= 300)' >/dev/null || return 1
    done
}
if wait_for 30 settled; then
    say "link costs settled (ETX over 16 Hellos) after ${SECONDS} s"
else
    say "link costs still settling after ${SECONDS} s"
fi

step "pinging every node from every node, IPv6 and IPv4"
for i in "${NODES[@]}"; do
    line=""
    for j in "${NODES[@]}"; do
        ((i == j)) && continue
        for addr in "$(in6 "$j")" "$(in4 "$j")"; do
            wait_for 10 ip netns exec "$(ns "$i")" ping -c1 -W1 "$addr" || die "n$i -> $addr: no reply"
        done
        ttl=$(ip netns exec "$(ns "$i")" ping -c1 -W1 "$(in6 "$j")" | grep -o 'ttl=[0-9]*' | cut -d= -f2)
        line+="  n$j ($((64 - ttl)) relay(s))"
    done
    say "n$i reaches$line"
done

step "plexus routes (node n1)"
"$PLEXUS" routes --socket "$WORK/n1.sock" || die "plexus routes failed"

# ------------------------------------------------------------------ failover
step "cutting the link n1 uses to reach n3, silently, during a ping every 10 ms"
via=$(route_peer 1 3)
cut=""
for i in 2 4; do [[ $(cat "$WORK/n$i.pub") == "$via" ]] && cut=$i; done
[[ -n $cut ]] || die "cannot tell which neighbour n1 routes n3 through"
other=$((cut == 2 ? 4 : 2))
say "n1 -> n3 goes through n$cut; dropping every UDP datagram on the n1-n$cut underlay"
ip netns exec "$(ns 1)" ping -i 0.01 -c 400 -W 1 "$(in6 3)" >"$WORK/failover.txt" 2>&1 &
PING=$!
sleep 1
ip netns exec "$(ns 1)" nft -f - <<EOF
table inet plexus_demo {
    chain input { type filter hook input priority 0; iifname "to$cut" meta l4proto udp drop; }
    chain output { type filter hook output priority 0; oifname "to$cut" meta l4proto udp drop; }
}
EOF
wait "$PING" || true
sent=$(grep -o '[0-9]* packets transmitted' "$WORK/failover.txt" | cut -d' ' -f1)
got=$(grep -o '[0-9]* received' "$WORK/failover.txt" | cut -d' ' -f1)
[[ -n $sent && -n $got ]] || die "the ping during the cut did not run: $(cat "$WORK/failover.txt")"
[[ $(route_peer 1 3) == "$(cat "$WORK/n$other.pub")" ]] || die "n1 did not move its route to n3 to n$other"
say "$((sent - got)) of $sent pings lost: traffic went round through n$other after about $(((sent - got) * 10)) ms"
ip netns exec "$(ns 1)" nft delete table inet plexus_demo

# ------------------------------------------------------------------ revocation
authorisation() { # NODE PEER_NODE: the state of NODE's link to PEER_NODE ("authorised", ...)
    "$PLEXUS" status --json --socket "$WORK/n$1.sock" 2>/dev/null |
        jq -r --arg k "$(cat "$WORK/n$2.pub")" \
            '.peers[] | select(.public_key == $k) | .authorisation | "\(.state) \(.reason // "")"'
}
cut_off() { [[ $(authorisation 2 3) == "rejected revoked" && $(authorisation 4 3) == "rejected revoked" ]]; }
step "revoking n3 at the registry"
[[ $(authorisation 2 3) == "authorised "* ]] || die "n2's link to n3 is not authorised: $(authorisation 2 3)"
"$PLEXUS" registry revoke n3 --dir "$WORK/reg" | sed 's/^/    /'
SECONDS=0
wait_for 30 cut_off || die "n2 and n4 did not cut n3 off within 30 s: $(authorisation 2 3) / $(authorisation 4 3)"
say "n2 and n4 refused n3's certificate after ${SECONDS} s (registry poll every 5 s, then flooded node to node)"
wait_for 10 bash -c "! ip netns exec $(ns 1) ping -c1 -W1 $(in6 3)" || die "n1 still reaches n3"
say "n1 -> n3: no route any more; n3's routes are gone from the mesh"

if [[ ${HOLD:-0} != 0 ]]; then
    step "holding ${HOLD}s: try ip netns exec $(ns 1) ping $(in6 3)"
    sleep "$HOLD"
fi
