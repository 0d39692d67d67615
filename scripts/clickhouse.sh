#!/usr/bin/env bash
# Starts and stops a clickhouse-server for tickflow, on 127.0.0.1, with all its
# files under one folder.
#   scripts/clickhouse.sh config DIR HTTP_PORT TCP_PORT   writes DIR/config.xml (and DIR/users.xml)
#   scripts/clickhouse.sh cluster DIR NAME HOST:TCP_PORT,...  adds cluster NAME (one shard per
#                                                         address) to DIR/config.xml (before start)
#   scripts/clickhouse.sh start DIR [HTTP_PORT TCP_PORT]  writes the config if missing (ports 8123, 9000),
#                                                         starts the server, waits for /ping
#   scripts/clickhouse.sh stop DIR                        stops the server started from DIR (by its PID)
#   scripts/clickhouse.sh status DIR
# The PID is kept in DIR/clickhouse.pid and the log in DIR/clickhouse.log. The store URL
# is then clickhouse://127.0.0.1:HTTP_PORT/DATABASE (`tickflow db init --db URL` creates it).
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
pidfile="$dir/clickhouse.pid"
running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
http_port() { sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$dir/config.xml"; }

write_config() {
  local http="$1" tcp="$2"
  mkdir -p "$dir/data/" "$dir/tmp/" "$dir/user_files/" "$dir/format_schemas/"
  dir="$(cd "$dir" && pwd)"
  if [[ -f /etc/clickhouse-server/users.xml ]]; then
    cp /etc/clickhouse-server/users.xml "$dir/users.xml"
  else
    cat > "$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>10000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
  fi
  cat > "$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/clickhouse-server.log</log><errorlog>$dir/clickhouse-server.err.log</errorlog><size>100M</size><count>2</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>1073741824</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
EOF
}

case "$cmd" in
  config)
    [[ $# -eq 4 ]] || { echo "usage: $0 config DIR HTTP_PORT TCP_PORT" >&2; exit 2; }
    write_config "$3" "$4"
    ;;
  cluster)
    [[ $# -eq 4 && -f "$dir/config.xml" ]] || { echo "usage: $0 cluster DIR NAME HOST:TCP_PORT,... (after config)" >&2; exit 2; }
    shards=""
    IFS=, read -ra nodes <<<"$4"
    for node in "${nodes[@]}"; do
      [[ "$node" =~ ^[^:]+:[0-9]+$ ]] || { echo "cluster: '$node' is not HOST:TCP_PORT" >&2; exit 2; }
      shards+="<shard><replica><host>${node%:*}</host><port>${node##*:}</port></replica></shard>"
    done
    # One cluster per config, on one line: writing it again replaces it.
    sed -i "/<remote_servers>/d" "$dir/config.xml"
    sed -i "s|</yandex>|<remote_servers><$3>$shards</$3></remote_servers>\n</yandex>|" "$dir/config.xml"
    ;;
  start)
    command -v clickhouse-server >/dev/null || { echo "clickhouse-server is not installed: run scripts/install-deps.sh" >&2; exit 1; }
    if running; then echo "clickhouse-server already running (pid $(cat "$pidfile"))"; exit 0; fi
    if [[ ! -f "$dir/config.xml" ]]; then write_config "${3:-8123}" "${4:-9000}"; fi
    clickhouse-server --config-file="$dir/config.xml" >"$dir/clickhouse.log" 2>&1 &
    echo $! > "$pidfile"
    http="$(http_port)"
    for _ in $(seq 1 300); do
      if curl -sf "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
        echo "clickhouse-server running (pid $(cat "$pidfile")): clickhouse://127.0.0.1:$http/tickflow"
        exit 0
      fi
      running || { echo "clickhouse-server exited; see $dir/clickhouse.log:" >&2; tail -5 "$dir/clickhouse.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "clickhouse-server did not answer /ping within 30 s; see $dir/clickhouse-server.err.log" >&2
    exit 1
    ;;
  stop)
    if running; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "clickhouse-server stopped (pid $pid)"
    else
      echo "clickhouse-server is not running"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running; then echo "clickhouse-server running (pid $(cat "$pidfile"), http port $(http_port))"; else echo "clickhouse-server is not running"; exit 1; fi
    ;;
  *)
    echo "unknown command '$cmd'; commands: config, cluster, start, stop, status" >&2
    exit 2
    ;;
esac
