#!/usr/bin/env bash
# tickflow as an installed package, used by a project of its own
# (tests/consumer) the way a user's would:
#  - the libraries alone build with tests, apps, benchmarks, Python and fuzzing
#    off, and `cmake --install` puts libraries, headers, tickflowConfig.cmake,
#    its version file and tickflow.pc under a prefix;
#  - the consumer finds it with find_package(tickflow CONFIG COMPONENTS ...):
#    replay_store (client + gateway) replays a store in process, remote_client
#    (the client component only) replays from `tickflow gateway` over a real
#    nats-server; both print exactly what `tickflow trades` prints; the
#    client-only program links neither gRPC, libzip, curl nor SQLite;
#  - the same program builds from tickflow.pc with pkg-config;
#  - a store without its ClickHouse backend builds without looking for curl,
#    and a test build that needs what was turned off is refused, saying why.
#   consumer_test.sh TICKFLOW_BINARY SOURCE_DIR
set -uo pipefail
bin="$1"; src="$2"
work=$(mktemp -d)
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null
  bash "$src/scripts/nats.sh" stop "$work/nats" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # ok, bad, bounded, wait_bounded, free_port, summary
# Unoptimised and without debug information: the quickest build of the libraries.
fast=(-G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0)
lib_only=(-DTICKFLOW_BUILD_TESTS=OFF -DTICKFLOW_BUILD_APPS=OFF -DTICKFLOW_BUILD_BENCHMARKS=OFF
          -DTICKFLOW_BUILD_PYTHON=OFF -DTICKFLOW_BUILD_FUZZ=OFF)

# The libraries, installed.
prefix="$work/prefix"
if bounded 120 "configuring the libraries" cmake -S "$src" -B "$work/lib" "${fast[@]}" "${lib_only[@]}" \
     > "$work/lib.configure.log" 2>&1; then ok; else bad "configure the libraries: $(tail -20 "$work/lib.configure.log")"; fi
if bounded 1200 "building the libraries" cmake --build "$work/lib" -j 2 > "$work/lib.build.log" 2>&1; then ok
else bad "build the libraries: $(grep -m5 -A5 'error' "$work/lib.build.log")"; fi
bounded 120 "installing" cmake --install "$work/lib" --prefix "$prefix" > "$work/install.log" 2>&1 && ok \
  || bad "install: $(tail -5 "$work/install.log")"
for f in lib/cmake/tickflow/tickflowConfig.cmake lib/cmake/tickflow/tickflowConfigVersion.cmake \
         lib/cmake/tickflow/tickflow-client-targets.cmake lib/pkgconfig/tickflow.pc include/tickflow/version.hpp \
         include/tickflow/client/client.hpp lib/libtickflow_client.a lib/libtickflow_symdb.a; do
  [ -f "$prefix/$f" ] && ok || bad "the prefix lacks $f"
done
version=$(sed -n 's/^project(tickflow VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
grep -q "TICKFLOW_VERSION_STRING \"$version\"" "$prefix/include/tickflow/version.hpp" && ok \
  || bad "version.hpp does not carry project()'s version $version"

# The consumer project.
if bounded 120 "configuring the consumer" cmake -S "$src/tests/consumer" -B "$work/consumer" "${fast[@]}" \
     -DCMAKE_PREFIX_PATH="$prefix" > "$work/consumer.configure.log" 2>&1; then ok
else bad "configure the consumer: $(tail -20 "$work/consumer.configure.log")"; fi
bounded 600 "building the consumer" cmake --build "$work/consumer" -j 2 > "$work/consumer.build.log" 2>&1 && ok \
  || bad "build the consumer: $(grep -m5 -A5 'error' "$work/consumer.build.log")"
link_line() { ninja -C "$work/consumer" -t commands "$1" | tail -1; }
client_link=$(link_line remote_client)
for dep in grpc protobuf zip curl sqlite3 microhttpd tickflow_store tickflow_gateway; do
  grep -q -- "$dep" <<< "$client_link" && bad "the client-only program links $dep: $client_link" || ok
done
grep -q tickflow_client <<< "$client_link" && ok || bad "remote_client does not link the client: $client_link"
ldd "$work/consumer/remote_client" | grep -E -q 'grpc|libzip|libcurl' && bad "remote_client loads $(ldd "$work/consumer/remote_client" | grep -E 'grpc|libzip|libcurl')" || ok
store_link=$(link_line replay_store)
for dep in grpc zip tickflow_symdb tickflow_importer; do
  grep -q -- "$dep" <<< "$store_link" && bad "replay_store links $dep, which neither client nor gateway needs" || ok
done
# The version check of find_package: 0.1 is this version, 9.0 is not.
mkdir -p "$work/v9"
cat > "$work/v9/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(v9 LANGUAGES CXX)
find_package(tickflow 9.0 CONFIG REQUIRED COMPONENTS core)
CM
cmake -S "$work/v9" -B "$work/v9/build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/v9.log" 2>&1 \
  && bad "find_package(tickflow 9.0) accepted version $version" || ok
grep -q "compatible with requested version \"9.0\"" "$work/v9.log" && ok || bad "the version refusal does not say why: $(cat "$work/v9.log")"
sed -i 's/9.0 CONFIG REQUIRED COMPONENTS core/CONFIG REQUIRED COMPONENTS nosuch/' "$work/v9/CMakeLists.txt"
cmake -S "$work/v9" -B "$work/v9/build" -DCMAKE_PREFIX_PATH="$prefix" > "$work/nosuch.log" 2>&1 \
  && bad "an unknown component was accepted" || ok
grep -q "no component 'nosuch'" "$work/nosuch.log" && ok || bad "an unknown component's refusal: $(cat "$work/nosuch.log")"

# The programs replay what the store holds.
"$bin" generate --out "$work/in" --symbols 2 --trades 20000 > /dev/null
"$bin" import "$work/in" --db "$work/store.db" > /dev/null 2>&1 || bad "import"
"$bin" trades XBTUSD --db "$work/store.db" --format csv > "$work/expected.csv" 2>/dev/null
rows=$(($(wc -l < "$work/expected.csv") - 1))
[ "$rows" -gt 1000 ] && ok || bad "the store holds only $rows XBTUSD trades"
bounded 120 "replay_store" "$work/consumer/replay_store" "$work/store.db" XBTUSD > "$work/replay_store.csv" 2> "$work/replay_store.err" \
  && ok || bad "replay_store: $(cat "$work/replay_store.err")"
cmp -s "$work/expected.csv" "$work/replay_store.csv" && ok || bad "replay_store printed other trades than the store holds"
grep -q "tickflow $version" "$work/replay_store.err" && ok || bad "the program does not print tickflow::kVersion"

port=$(free_port); http=$(free_port)
url="nats://127.0.0.1:$port"
"$bin" nats-config --dir "$work/nats" --clients 1-2 --port "$port" --http "$http" > /dev/null || bad "nats-config"
bash "$src/scripts/nats.sh" start "$work/nats" > "$work/nats.log" 2>&1 || bad "nats.sh start: $(cat "$work/nats.log")"
"$bin" gateway --bus "$url" --creds "$work/nats/creds/gateway.creds" --db "$work/store.db" --metrics 127.0.0.1:0 \
  > "$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 600); do grep -q "gateway serving" "$work/gateway.log" && break; sleep 0.1; done
grep -q "gateway serving" "$work/gateway.log" && ok || bad "the gateway did not start within 60 s: $(cat "$work/gateway.log")"
bounded 120 "remote_client" "$work/consumer/remote_client" "$url" "$work/nats/creds/client-2.creds" 'XBT*' \
  > "$work/remote.csv" 2> "$work/remote.err" && ok || bad "remote_client: $(cat "$work/remote.err")"
cmp -s "$work/expected.csv" "$work/remote.csv" && ok || bad "remote_client printed other trades than the store holds"
"$work/consumer/remote_client" "$url" "$work/nats/creds/nosuch.creds" 'XBT*' > /dev/null 2> "$work/nocreds.err" \
  && bad "a missing credentials file was accepted" || ok
grep -q "nosuch.creds cannot be read" "$work/nocreds.err" && ok || bad "a missing credentials file: $(cat "$work/nocreds.err")"
"$work/consumer/remote_client" "http://127.0.0.1:$port" "$work/nats/creds/client-2.creds" 'XBT*' > /dev/null \
  2> "$work/badurl.err" && bad "an http:// URL was accepted" || ok
grep -q "Client::Connect takes nats://" "$work/badurl.err" && ok || bad "a bad URL: $(cat "$work/badurl.err")"


# The same program from tickflow.pc.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --modversion tickflow | grep -qx "$version" && ok || bad "pkg-config --modversion tickflow"
if bounded 300 "compiling with pkg-config" g++ -std=c++20 -O0 -o "$work/remote_pc" "$src/tests/consumer/remote_client.cpp" \
     $(pkg-config --cflags --libs tickflow) > "$work/pc.log" 2>&1; then ok; else bad "pkg-config build: $(head -20 "$work/pc.log")"; fi
bounded 120 "remote_client built with pkg-config" "$work/remote_pc" "$url" "$work/nats/creds/client-1.creds" XBTUSD \
  > "$work/remote_pc.csv" 2> "$work/remote_pc.err" && cmp -s "$work/expected.csv" "$work/remote_pc.csv" && ok \
  || bad "the pkg-config build printed other trades: $(head -3 "$work/remote_pc.csv") $(cat "$work/remote_pc.err")"
kill -TERM "$gw_pid"; wait_bounded "$gw_pid" 30 "the gateway to stop on SIGTERM" && ok || bad "the gateway did not stop cleanly"
gw_pid=""

# Per-backend options.
if bounded 120 "configuring without ClickHouse and symdb" cmake -S "$src" -B "$work/min" "${fast[@]}" "${lib_only[@]}" \
     -DTICKFLOW_WITH_CLICKHOUSE=OFF -DTICKFLOW_WITH_SYMDB=OFF > "$work/min.log" 2>&1; then ok
else bad "configure without ClickHouse and symdb: $(tail -20 "$work/min.log")"; fi
grep -q "^CURL_" "$work/min/CMakeCache.txt" && bad "a build without ClickHouse looked for curl" || ok
grep -q "^GRPCPP_" "$work/min/CMakeCache.txt" && bad "a build without symdb looked for gRPC" || ok
bounded 600 "building the store without ClickHouse" cmake --build "$work/min" --target tickflow_store -j 2 > "$work/min.build.log" 2>&1 \
  && ok || bad "the store without ClickHouse: $(grep -m5 -A5 error "$work/min.build.log")"
cmake -S "$src" -B "$work/refused" "${fast[@]}" -DTICKFLOW_WITH_CLICKHOUSE=OFF > "$work/refused.log" 2>&1 \
  && bad "tests without ClickHouse were accepted" || ok
grep -q "TICKFLOW_BUILD_TESTS=ON runs the tickflow program" "$work/refused.log" && ok \
  || bad "the refusal does not say why: $(tail -5 "$work/refused.log")"

summary consumer_test
