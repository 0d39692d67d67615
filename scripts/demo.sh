#!/usr/bin/env bash
# The main job: install what is needed, build, and run `tickflow demo`
# (generate sample Kraken data, import it, show symbols and bars).
#   scripts/demo.sh [demo flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
exec build/release/apps/tickflow/tickflow demo "$@"
