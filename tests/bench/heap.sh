#!/bin/sh
# tests/bench/heap.sh: heap calls of ward's event loop under the benchmark
# loads (issue 5: "zero heap allocations after start-up under all of the
# above").
#
# The server runs under tests/e2e/alloc_count.c (an LD_PRELOAD shim that
# counts malloc/calloc/realloc/free/... between the first and the last
# event wait) while wardload drives, one after another and a few seconds
# each: echo 32 B and 4 KiB (100 connections), handshakes flat out (10
# connectors), 5,000 idle WebSockets, fan-out to 1,000 STT subscribers
# (8 in flight), then SIGTERM.  It prints the shim's counts and one line
#   RESULT heap waits=N loop_total=M
# A benchmark, not a test: it reports, it never fails (the e2e suite's
# test_noalloc.py is the test).  The shim writes its counts at every event
# wait, so these runs are slower than run.sh's and are not measured.
#
# Environment: WARDLOAD, WARD_BIN, BENCH_DIR, BENCH_PORT (default 18950),
# HOSTCC (default cc).

set -u

WARDLOAD=${WARDLOAD:-build/bench/wardload}
WARD_BIN=${WARD_BIN:-build/host/ward}
BENCH_DIR=${BENCH_DIR:-build/bench}
PORT=${BENCH_PORT:-18950}
HOSTCC=${HOSTCC:-cc}
TARGET=127.0.0.1:$PORT
SO=$BENCH_DIR/alloc_count.so
COUNTS=$BENCH_DIR/heap-counts.txt
LIMIT=
command -v timeout >/dev/null 2>&1 && LIMIT="timeout -k 5 60"

say() {
	printf '%s\n' "$*"
}

if [ ! -x "$WARD_BIN" ]; then
	say "heap: $WARD_BIN not built; skipped"
	exit 0
fi
mkdir -p "$BENCH_DIR"
if ! $HOSTCC -shared -fPIC -O2 -o "$SO" tests/e2e/alloc_count.c -ldl; then
	say "heap: could not build the LD_PRELOAD shim; skipped"
	exit 0
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null
rm -f "$COUNTS"
rm -rf "$BENCH_DIR/heap-data"
LD_PRELOAD=$(cd "$(dirname "$SO")" && pwd)/$(basename "$SO") \
ALLOC_COUNT_FILE=$COUNTS "$WARD_BIN" --set "listen=$TARGET" \
    --set log_level=warn --set rate_limit=0 --set max_connections=12000 \
    --set "data_dir=$BENCH_DIR/heap-data" >"$BENCH_DIR/heap-ward.log" 2>&1 &
pid=$!
tries=0
until "$WARDLOAD" probe --setup-timeout 1 "$TARGET" >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ $tries -ge 50 ] || ! kill -0 $pid 2>/dev/null; then
		say "heap: server did not start; see $BENCH_DIR/heap-ward.log"
		kill $pid 2>/dev/null
		exit 0
	fi
	sleep 0.1
done

run() {
	say "heap: wardload $*"
	$LIMIT "$WARDLOAD" "$@" --server-pid $pid "$TARGET" 2>&1 |
	    grep '^RESULT' | cut -c1-160
}
run echo --conns 100 --size 32 --warmup 0 --duration 2 --setup-timeout 10
run echo --conns 100 --size 4096 --warmup 0 --duration 2 --setup-timeout 10
run handshake --conns 10 --warmup 0 --duration 2
run idle --conns 5000 --hold 1 --setup-timeout 30
run fanout --conns 1000 --path '/ws/stt/room/?role=p&name=s{i}&room=heap' \
    --inflight 8 --warmup 0 --duration 2 --setup-timeout 30
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
rc=$?
say "heap: server exit status $rc after SIGTERM"
if [ ! -s "$COUNTS" ]; then
	say "heap: no counts written ($COUNTS)"
	exit 0
fi
sed -n '/^trace /q;p' "$COUNTS" | sed 's/^/heap:   /'
awk '$1 == "waits" { w = $2 } $1 == "loop_total" { t = $2 }
    END { printf "RESULT heap waits=%s loop_total=%s\n", w, t }' "$COUNTS"
