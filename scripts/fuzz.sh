#!/usr/bin/env bash
# Builds the fuzz targets with clang + libFuzzer (+ASan/UBSan) and runs each
# for SECONDS (default 60) on the corpora in tests/data.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
secs="${1:-60}"
cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DTICKFLOW_SANITIZE=ON -DTICKFLOW_LIBFUZZER=ON -DTICKFLOW_BUILD_TESTS=OFF -DTICKFLOW_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/fuzz --target sbe_frame_fuzz csv_fuzz zip_fuzz
for t in sbe_frame_fuzz:tests/data/sbe csv_fuzz:tests/data/csv zip_fuzz:tests/data/zip; do
  name="${t%%:*}"; corpus="${t#*:}"
  work="build/fuzz/corpus-$name"; mkdir -p "$work"; cp "$corpus"/* "$work"/ 2>/dev/null || true
  echo "== $name for ${secs}s"
  "build/fuzz/fuzz/$name" -max_total_time="$secs" -print_final_stats=1 "$work"
done
