# Shared by the integration scripts: `source "$(dirname "$0")/lib.sh"`.
# Counts checks (ok / bad "what failed"), bounds every wait, and finds free ports.
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# Every wait is bounded, and says what it waited for: a command that hangs (a
# server that never came up, a replay waiting for it) fails the test instead
# of the test hanging until ctest's timeout.
bounded() {  # bounded SECONDS WHAT CMD...: runs CMD, killed after SECONDS
  local secs="$1" what="$2"; shift 2
  timeout --kill-after=5 "$secs" "$@"; local rc=$?
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "timed out after $secs s waiting for $what" >&2
  return $rc
}
wait_bounded() {  # wait_bounded PID SECONDS WHAT: waits for a background job, kills it after SECONDS
  local pid="$1" secs="$2" what="$3"
  for _ in $(seq 1 $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
    sleep 0.1
  done
  echo "timed out after $secs s waiting for $what" >&2
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 124
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# summary NAME: prints the counts; its status is the test's.
summary() { echo "$1: $pass passed, $fail failed"; [ $fail -eq 0 ]; }
