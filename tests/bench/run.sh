#!/bin/sh
# tests/bench/run.sh: ward's standard benchmark set (issue 5).
#
# Runs, each bounded in time: about 90 s in all with the defaults, under
# 4 minutes even when every run hits its set-up timeout:
#   1. tcp-echo against epoll_echo and echo against ward, 100 connections,
#      32 B and 4 KiB: server CPU per round trip side by side, and the ratio;
#   2. handshakes: 10 connectors flat out, then paced at 1,000/s;
#   3. 10,000 idle WebSocket connections: server RSS per connection;
#   4. fanout to 1,000 subscribers of /ws/stt/room/ (skipped only when the
#      server answers 404 there).
# Servers run on CPU 0, the generator on CPU 1 (taskset), when there are
# two CPUs. A benchmark, not a test: missed targets never fail it.
#
# Environment: WARDLOAD, EPOLL_ECHO, WARD_BIN (paths), BENCH_DIR (scratch
# and results), BENCH_PORT (default 18950), BENCH_DURATION (measured
# seconds per run, default 5).

set -u

WARDLOAD=${WARDLOAD:-build/bench/wardload}
EPOLL_ECHO=${EPOLL_ECHO:-build/bench/epoll_echo}
WARD_BIN=${WARD_BIN:-build/host/ward}
BENCH_DIR=${BENCH_DIR:-build/bench}
PORT=${BENCH_PORT:-18950}
DUR=${BENCH_DURATION:-5}
TARGET=127.0.0.1:$PORT
RESULTS=$BENCH_DIR/results.txt
ROOM_PATH='/ws/stt/room/?role=p&name=s{i}&room='

srv_pid=

say() {
	printf '%s\n' "$*"
}

stop_server() {
	if [ -n "$srv_pid" ]; then
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
	fi
	srv_pid=
}

trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# Pinning: servers on CPU 0, generator on CPU 1.
SRV_PIN=
GEN_PIN=
if command -v taskset >/dev/null 2>&1 &&
    [ "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)" -ge 2 ]; then
	SRV_PIN="taskset -c 0"
	GEN_PIN="taskset -c 1"
else
	say "note: no taskset or fewer than 2 CPUs; running unpinned"
fi

# A cap on every generator run on top of its own deadline.
LIMIT=
if command -v timeout >/dev/null 2>&1; then
	LIMIT="timeout -k 5 $((DUR + 45))"
fi

# 10,000 connections need descriptors on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# start_server LOG CMD...: runs CMD on the server CPU, waits until the port
# accepts connections (5 s at most).
start_server() {
	log=$1
	shift
	if "$WARDLOAD" probe --setup-timeout 1 "$TARGET" >/dev/null 2>&1; then
		say "port $PORT is taken; set BENCH_PORT"
		return 1
	fi
	$SRV_PIN "$@" >"$log" 2>&1 &
	srv_pid=$!
	tries=0
	while [ $tries -lt 50 ]; do
		if ! kill -0 "$srv_pid" 2>/dev/null; then
			say "server exited; see $log"
			srv_pid=
			return 1
		fi
		if "$WARDLOAD" probe --setup-timeout 1 "$TARGET" \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		tries=$((tries + 1))
	done
	say "server did not listen on $TARGET within 5 s; see $log"
	stop_server
	return 1
}

# bench NAME ARGS...: one generator run; its RESULT line goes to RESULTS
# as "NAME key=value ...".
bench() {
	name=$1
	shift
	say ""
	say "== $name"
	$LIMIT $GEN_PIN "$WARDLOAD" "$@" --server-pid "$srv_pid" "$TARGET" \
	    >"$BENCH_DIR/$name.out" 2>&1
	cat "$BENCH_DIR/$name.out"
	sed -n "s/^RESULT /$name /p" "$BENCH_DIR/$name.out" >>"$RESULTS"
}

# get NAME KEY: a value from RESULTS, or "-".
get() {
	awk -v n="$1" -v k="$2" '
	$1 == n { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) {
		print substr($i, length(k) + 2); found = 1 } }
	END { if (!found) print "-" }' "$RESULTS"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

# ---- runs ----

reference() {
	start_server "$BENCH_DIR/epoll_echo.log" "$EPOLL_ECHO" "$PORT" ||
	    return 1
	bench ref-32 tcp-echo --conns 100 --size 32 --duration "$DUR" \
	    --setup-timeout 10
	bench ref-4k tcp-echo --conns 100 --size 4096 --duration "$DUR" \
	    --setup-timeout 10
	stop_server
}

# ward_runs BINARY SUFFIX: the ward set; labels get SUFFIX ("" = poll()).
# rate_limit=0: the fan-out publisher sends far more than 100 msg/s;
# max_connections: the laptop pool holds 16384, the default admits 1024.
ward_runs() {
	S=$2
	rm -rf "$BENCH_DIR/ward-data"
	start_server "$BENCH_DIR/ward$S.log" "$1" \
	    --set "listen=$TARGET" --set log_level=warn \
	    --set rate_limit=0 --set max_connections=12000 \
	    --set "data_dir=$BENCH_DIR/ward-data" || return 1
	bench ward-32$S echo --conns 100 --size 32 --duration "$DUR" \
	    --setup-timeout 10
	bench ward-4k$S echo --conns 100 --size 4096 --duration "$DUR" \
	    --setup-timeout 10
	bench hs-flat$S handshake --conns 10 --duration "$DUR"
	bench hs-1000$S handshake --conns 10 --rate 1000 --duration "$DUR"
	bench idle-10k$S idle --conns 10000 --hold "$DUR" --setup-timeout 30
	fanout_runs "$S"
	stop_server
}

fanout_runs() {
	status=$("$WARDLOAD" probe --setup-timeout 5 --path \
	    '/ws/stt/room/?role=p&name=probe&room=probe' "$TARGET" |
	    sed -n 's/^RESULT .* status=\([0-9-]*\).*/\1/p')
	if [ "$status" = 404 ]; then
		say ""
		say "fanout: endpoint not available yet"
		return 0
	fi
	bench fanout-1$1 fanout --conns 1000 --path "${ROOM_PATH}bench1" \
	    --inflight 1 --warmup 2 --duration "$DUR" --setup-timeout 30
	bench fanout-8$1 fanout --conns 1000 --path "${ROOM_PATH}bench8" \
	    --inflight 8 --warmup 2 --duration "$DUR" --setup-timeout 30
	bench fanout-16$1 fanout --conns 1000 --path "${ROOM_PATH}bench16" \
	    --inflight 16 --warmup 2 --duration "$DUR" --setup-timeout 30
}

# ---- summary ----

row() {
	printf '%-26s %10s %10s %10s %12s\n' "$@"
}

summary_echo() {
	row "" "msg/s" "p50 us" "p99 us" "CPU us/rt"
	for r in ref-32 ward-32 ward-32-epoll ref-4k ward-4k ward-4k-epoll; do
		row "$r" "$(get $r msgs_per_s)" "$(get $r rtt_p50_us)" \
		    "$(get $r rtt_p99_us)" "$(get $r srv_cpu_us_per_rt)"
	done
	row "ward/epoll CPU per rt" "" "" "32 B" \
	    "$(ratio "$(get ward-32 srv_cpu_us_per_rt)" \
	    "$(get ref-32 srv_cpu_us_per_rt)")"
	row "" "" "" "4 KiB" \
	    "$(ratio "$(get ward-4k srv_cpu_us_per_rt)" \
	    "$(get ref-4k srv_cpu_us_per_rt)")"
	row "ward-epoll/epoll per rt" "" "" "32 B" \
	    "$(ratio "$(get ward-32-epoll srv_cpu_us_per_rt)" \
	    "$(get ref-32 srv_cpu_us_per_rt)")"
	row "" "" "" "4 KiB" \
	    "$(ratio "$(get ward-4k-epoll srv_cpu_us_per_rt)" \
	    "$(get ref-4k srv_cpu_us_per_rt)")"
}

summary() {
	say ""
	say "== summary (server CPU 0, generator CPU 1; $DUR s windows)"
	summary_echo
	say ""
	row "" "hs/s" "p50 us" "p99 us" "CPU us/hs"
	for r in hs-flat hs-1000 hs-flat-epoll hs-1000-epoll; do
		row "$r" "$(get $r hs_per_s)" "$(get $r hs_p50_us)" \
		    "$(get $r hs_p99_us)" "$(get $r srv_cpu_us_per_hs)"
	done
	say "  target: p99 < 5000 us at 1,000 connects/s (hs-1000)"
	say ""
	row "" "opened" "RSS kB" "" "B per conn"
	for r in idle-10k idle-10k-epoll; do
		row $r "$(get $r opened)" "$(get $r rss_open_kb)" \
		    "" "$(get $r rss_per_conn_b)"
	done
	say ""
	row "" "deliv/s" "p50 us" "p99 us" "lost/dups"
	for r in fanout-1 fanout-8 fanout-16 fanout-1-epoll fanout-8-epoll \
	    fanout-16-epoll; do
		row "$r" "$(get $r deliveries_per_s)" "$(get $r lat_p50_us)" \
		    "$(get $r lat_p99_us)" "$(get $r lost)/$(get $r dups)"
	done
	say ""
	say "RESULT lines: $RESULTS"
}

main() {
	for t in "$WARDLOAD" "$EPOLL_ECHO"; do
		if [ ! -x "$t" ]; then
			say "missing $t (make bench-tools)"
			exit 1
		fi
	done
	mkdir -p "$BENCH_DIR"
	: >"$RESULTS"
	reference || say "reference server failed; continuing"
	if [ -x "$WARD_BIN" ]; then
		ward_runs "$WARD_BIN" "" ||
		    say "ward failed to start; see $BENCH_DIR/ward.log"
		if [ -n "${WARD_EPOLL_BIN:-}" ] && [ -x "$WARD_EPOLL_BIN" ]; then
			ward_runs "$WARD_EPOLL_BIN" -epoll ||
			    say "ward (epoll) failed; see $BENCH_DIR/ward-epoll.log"
		fi
	else
		say ""
		say "ward: $WARD_BIN not built; only the reference ran"
	fi
	summary
	exit 0
}

main
