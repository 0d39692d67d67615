#!/usr/bin/env bash
# clang-tidy with the checks of .clang-tidy (every warning an error) over the
# sources of libs/ and apps/ and the headers they include; tests, benchmarks,
# fuzzers and generated code are not checked. Uses a build's compilation
# database (default: the debug build, which scripts/test.sh makes).
#   scripts/tidy.sh [BUILD_DIR] [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${1:-build/debug}
shift || true
db="$build/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "tidy: $db not found: build first (bash scripts/build.sh debug)" >&2
  exit 2
fi
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(grep -o '"file": *"[^"]*"' "$db" | sed 's/.*"\([^"]*\)"$/\1/' |
    grep -E "^$PWD/(libs|apps)/" | grep -vE '/(test|bench)/' | sort -u)
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "tidy: ${#files[@]} files, $(nproc) at a time"
start=$SECONDS
# A file that takes more than 10 minutes is reported as such, not waited for.
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'log="$1/$(echo "$2" | tr / _).log"; timeout 600 clang-tidy -p "$0" --quiet --extra-arg=-Wno-unknown-warning-option "$2" >"$log" 2>&1 || { rc=$?; [ $rc -eq 124 ] && echo "tidy: $2: clang-tidy took over 600 s" >>"$log"; echo "rc=$rc" >>"$log"; }' \
  "$build" "$logs" {}
failed=0
for log in "$logs"/*.log; do
  if grep -q '^rc=' "$log"; then
    failed=$((failed + 1))
    grep -v '^rc=\|warnings generated\|^Suppressed\|^Use -header-filter\|NOLINT' "$log" || true
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "tidy: $failed of ${#files[@]} files have findings (above); fix them or, for a check that does not fit, disable it in .clang-tidy with the reason" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files clean in $((SECONDS - start)) s"
