#!/usr/bin/env bash
# Builds the tests of the threaded components with ThreadSanitizer (the tsan
# preset) and runs them: the gateway (a thread per stream), the client (data,
# response and heartbeat threads) and both buses, the importer's pipeline, the
# backtester's strategy thread. A reported race fails the run.
#   scripts/tsan.sh [ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
tests=(gateway_test nats_test bus_test importer_test backtest_test observability_test)
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$(nproc)" --target "${tests[@]}"
# halt_on_error: the first race fails its test, with both stacks in the output.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
ctest --preset tsan -R "$regex" "$@"
