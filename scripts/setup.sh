#!/usr/bin/env bash
# Installs the Debian 12 packages zerobuffer needs to build and test. Idempotent: when every
# package is already installed it only runs dpkg-query and returns.
# Arguments name extra packages to install as well (scripts/bench.sh: gnuplot-nox).
set -euo pipefail

# python3-dev: headers for the zerobuffer-native extension (python/) when python3 is the system one.
# libboost-dev: the header-only Boost.Interprocess message_queue that bench_side_by_side compares
# with (the library itself does not use Boost).
# libzmq3-dev, cppzmq-dev: the optional ZeroMQ bridge (zerobuffer::bridge, zerobuffer-bridge);
# iproute2: its tests join two network namespaces with a veth pair (ip netns, ip link).
packages=(
  build-essential cmake ninja-build pkg-config
  libfmt-dev libgtest-dev libbenchmark-dev libboost-dev
  libzmq3-dev cppzmq-dev iproute2
  python3 python3-venv python3-pip python3-dev
  "$@"
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if ((EUID == 0)); then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: missing packages and not root (no sudo): ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
