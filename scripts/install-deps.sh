#!/usr/bin/env bash
# Installs, from Debian's archive only, every package plexus needs to build,
# test and benchmark. Idempotent; run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format clang-tidy libclang-rt-14-dev
  libsodium-dev libssl-dev openssl libsqlite3-dev libcpp-httplib-dev nlohmann-json3-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # system tests, interop and benchmarks
  python3 python3-pytest python3-cryptography iproute2 nftables iputils-ping iperf3 ethtool jq procps
  wireguard-go wireguard-tools babeld
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi
