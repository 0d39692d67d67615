#!/usr/bin/env bash
# Installs what is needed, builds the debug preset (ASan + UBSan, -Werror) and
# runs every test with ctest. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh debug
ctest --preset debug "$@"
