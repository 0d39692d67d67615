#!/usr/bin/env bash
# Installs dependencies, then configures and builds a CMake preset.
#   scripts/build.sh [debug|release]   (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
