#!/usr/bin/env bash
# Installs every Debian package tickflow needs to build, test and run.
# Non-interactive and idempotent; runs as root. `apt-get update` runs once, and
# only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libfmt-dev libcli11-dev libzip-dev zlib1g-dev libxxhash-dev libmicrohttpd-dev
  clang libclang-rt-14-dev clang-tidy
  python3 zip unzip help2man
  chromium fonts-dejavu-core
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libtomlplusplus-dev
  nats-server libnats-dev curl procps
  clickhouse-server clickhouse-client libcurl4-openssl-dev libssl-dev
  pybind11-dev python3-dev python3-numpy python3-pandas python3-pytest
  jupyter-nbconvert python3-ipykernel python3-nbclient
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
