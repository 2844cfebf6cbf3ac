#!/bin/sh
# tests/bench/run.sh: ward's standard benchmark set (issue 5).
#
# Runs, each bounded in time:
#   1. tcp-echo against epoll_echo and echo against ward, 100 connections,
#      32 B and 4 KiB: server CPU per round trip side by side, and the ratio;
#   2. handshakes: 10 connectors flat out, then paced at 1,000/s;
#   3. 10,000 idle WebSocket connections: server RSS per connection;
#   4. fanout to 1,000 subscribers of /ws/stt/room/ with 1, 8 and 16
#      messages in flight, and to 100 subscribers paced at 1,000 messages/s
#      (skipped only when the server answers 404 there);
#   5. fanout-all: a config-declared /ws service of scope all (declared on
#      the command line) to 1,000 /ws sockets, 8 in flight: the registry's
#      type index walks the 1,000 members, never the 16,392 slots;
#   6. cross-instance fan-out (issue 14): redis-server and two ward
#      instances, the publisher on A, 1,000 subscribers split over A and B
#      (8 in flight), and 100 split at 1,000 msg/s; next to the
#      single-instance fanout-8 and fanout-100-r1000 rows of the same run.
#   7. TLS (issue 12; BENCH_ONLY=tls runs only these, `make bench-tls`):
#      one ward with a plain and a TLS listener (build/dev-tls's EC P-256
#      certificate): echo 100 x 32 B in clear and over TLS back to back,
#      over TLS with wardload's OpenSSL client (tls-32) and with its
#      BearSSL one (tls-32-br, the lighter generator: the target row),
#      in clear with a generator burning 1 us more per reply (the method
#      check, tls-plain-32-burn1us), and the ratio of server CPU per round trip, saturated and paced at
#      TLS_PACE_RATE msg/s (default 20000) for both; TLS handshakes flat out
#      (10 connectors, --tls-only: handshake, close_notify, close) with
#      X25519 and with P-256 key exchange, resumed ones (session cache);
#      the same with the RSA-2048 certificate (a second server); 1,000
#      idle wss:// connections: server RSS per connection (a fresh
#      server).  Needs the openssl-made dev certificates (TLS_DIR,
#      default build/dev-tls; `make dev-tls`); skipped with a note when
#      they or the TLS listener are missing.
# Every run is repeated BENCH_REPEAT times (default 3) and every RESULT
# line is kept, labelled NAME#1, NAME#2, ...; the summary gives the median
# and [min-max] of the headline figures. Repetitions go in rounds (all runs
# once, then all again) within one server start, except idle-10k, which
# needs a fresh server each time (a second run would find the pages already
# touched). With the defaults the whole set takes about 7 minutes.
# Repetitions after the first are skipped, with a note, once BENCH_BUDGET
# seconds (default 540) have passed, so a slow machine still gets every run
# once. Servers run on CPU 0, the generator on CPU 1 (taskset), when there
# are two CPUs. A benchmark, not a test: missed targets never fail it.
#
# Environment: WARDLOAD, EPOLL_ECHO, WARD_BIN, WARD_EPOLL_BIN (paths),
# BENCH_DIR (scratch and results), BENCH_PORT (default 18950),
# BENCH_DURATION (measured seconds per run, default 5), BENCH_REPEAT
# (default 3), BENCH_BUDGET (seconds, default 540), BENCH_ONLY (tls: the
# TLS runs only; cluster: the single- and cross-instance fan-out rows
# only, `make bench-cluster`), TLS_DIR, TLS_IDLE_CONNS (default 1000; a board build
# under qemu has a smaller TLS pool).  WARD_BIN may be a wrapper script
# that execs qemu-user on a board's binary (boards/rules.mk's ward-run):
# the pid measured is then qemu's, whose CPU is the emulated server's.

set -u

WARDLOAD=${WARDLOAD:-build/bench/wardload}
EPOLL_ECHO=${EPOLL_ECHO:-build/bench/epoll_echo}
WARD_BIN=${WARD_BIN:-build/host/ward}
BENCH_DIR=${BENCH_DIR:-build/bench}
PORT=${BENCH_PORT:-18950}
DUR=${BENCH_DURATION:-5}
REPEAT=${BENCH_REPEAT:-3}
BUDGET=${BENCH_BUDGET:-540}
TARGET=127.0.0.1:$PORT
REF_TARGET=127.0.0.1:$((PORT + 1))
TLS_TARGET=127.0.0.1:$((PORT + 2))
TLS_DIR=${TLS_DIR:-build/dev-tls}
ONLY=${BENCH_ONLY:-}
TLS_IDLE=${TLS_IDLE_CONNS:-1000}
PACE=${TLS_PACE_RATE:-20000}
RESULTS=$BENCH_DIR/results.txt
ROOM_PATH='/ws/stt/room/?role=p&name=s{i}&room='
ALL_MSG='{"type":"bench_all","text":"wardload-seq={seq} ts={ts}"}'
T0=$(date +%s)

case $REPEAT in
'' | *[!0-9]* | 0) REPEAT=1 ;;
esac
case $BUDGET in
'' | *[!0-9]*) BUDGET=540 ;;
esac

srv_pid=
BENCH_REDIS=

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

stop_all() {
	stop_server
	if [ -n "$ref_pid" ]; then
		kill "$ref_pid" 2>/dev/null
		wait "$ref_pid" 2>/dev/null
	fi
	ref_pid=
}

ref_pid=
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

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

# launch ADDR LOG CMD...: runs CMD on the server CPU, waits until ADDR
# accepts connections (5 s at most); the pid is left in $launched.
launch() {
	addr=$1
	log=$2
	shift 2
	launched=
	if "$WARDLOAD" probe --setup-timeout 1 "$addr" >/dev/null 2>&1; then
		say "$addr is taken; set BENCH_PORT"
		return 1
	fi
	$SRV_PIN "$@" >"$log" 2>&1 &
	launched=$!
	tries=0
	while [ $tries -lt 50 ]; do
		if ! kill -0 "$launched" 2>/dev/null; then
			say "server exited; see $log"
			launched=
			return 1
		fi
		if "$WARDLOAD" probe --setup-timeout 1 "$addr" \
		    >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		tries=$((tries + 1))
	done
	say "server did not listen on $addr within 5 s; see $log"
	kill "$launched" 2>/dev/null
	wait "$launched" 2>/dev/null
	launched=
	return 1
}

# start_server LOG CMD...: the server under test, on TARGET.
start_server() {
	launch "$TARGET" "$@" || return 1
	srv_pid=$launched
}

# bench NAME#K ARGS...: one generator run; its RESULT line goes to RESULTS
# as "NAME#K key=value ...", its output to BENCH_DIR/NAME#K.out.
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

# bench_tls NAME#K ARGS...: as bench, against TLS_TARGET.
bench_tls() {
	name=$1
	shift
	say ""
	say "== $name"
	$LIMIT $GEN_PIN "$WARDLOAD" "$@" --server-pid "$srv_pid" \
	    "$TLS_TARGET" >"$BENCH_DIR/$name.out" 2>&1
	cat "$BENCH_DIR/$name.out"
	sed -n "s/^RESULT /$name /p" "$BENCH_DIR/$name.out" >>"$RESULTS"
}

# bench_ref NAME#K SIZE: the reference echo, right before ward's run of
# the same size and repetition (both servers stay up on CPU 0; the idle
# one sleeps), so machine drift hits both alike.
bench_ref() {
	[ -n "$ref_pid" ] || return 0
	say ""
	say "== $1"
	$LIMIT $GEN_PIN "$WARDLOAD" tcp-echo --conns 100 --size "$2" \
	    --duration "$DUR" --setup-timeout 10 --server-pid "$ref_pid" \
	    "$REF_TARGET" >"$BENCH_DIR/$1.out" 2>&1
	cat "$BENCH_DIR/$1.out"
	sed -n "s/^RESULT /$1 /p" "$BENCH_DIR/$1.out" >>"$RESULTS"
}

# another K: true when repetition K is to run (K <= REPEAT and, after the
# first, the time budget not spent).
another() {
	[ "$1" -le "$REPEAT" ] || return 1
	[ "$1" -eq 1 ] && return 0
	if [ $(($(date +%s) - T0)) -ge "$BUDGET" ]; then
		say ""
		say "note: ${BUDGET} s budget spent;" \
		    "repetitions #$1 and later skipped"
		return 1
	fi
	return 0
}

# ---- runs ----

# The reference echo server, up for the whole set on REF_TARGET.
reference() {
	launch "$REF_TARGET" "$BENCH_DIR/epoll_echo.log" "$EPOLL_ECHO" \
	    "$((PORT + 1))" || return 1
	ref_pid=$launched
}

# start_ward BINARY SUFFIX: a fresh ward on TARGET.
# rate_limit=0: the fan-out publisher sends far more than 100 msg/s;
# max_connections: the laptop pool holds 16384, the default admits 1024.
start_ward() {
	rm -rf "$BENCH_DIR/ward-data"
	start_server "$BENCH_DIR/ward$2.log" "$1" \
	    --set "listen=$TARGET" --set log_level=warn \
	    --set rate_limit=0 --set max_connections=12000 \
	    --set "data_dir=$BENCH_DIR/ward-data" \
	    --set service.benchall.types=bench_all \
	    --set service.benchall.scope=all ${BENCH_REDIS:+--set} \
	    ${BENCH_REDIS:+redis=$BENCH_REDIS}
}

# cluster_runs: redis-server on PORT+2, ward A on TARGET and B on PORT+3
# (both with redis), fan-out from A to subscribers split over A and B.
cluster_runs() {
	rd=$BENCH_DIR/redis
	if ! command -v redis-server >/dev/null 2>&1; then
		say ""
		say "cross-instance fanout: no redis-server (tests/deps.sh)"
		return 0
	fi
	mkdir -p "$rd"
	launch "127.0.0.1:$((PORT + 2))" "$BENCH_DIR/redis.log" redis-server \
	    --port $((PORT + 2)) --bind 127.0.0.1 --save "" \
	    --appendonly no --dir "$rd" || return 1
	redis_pid=$launched
	BENCH_REDIS=127.0.0.1:$((PORT + 2))
	rm -rf "$BENCH_DIR/ward-b-data"
	launch "127.0.0.1:$((PORT + 3))" "$BENCH_DIR/ward-b.log" "$WARD_BIN" \
	    --set "listen=127.0.0.1:$((PORT + 3))" --set log_level=warn \
	    --set rate_limit=0 --set max_connections=12000 \
	    --set "data_dir=$BENCH_DIR/ward-b-data" \
	    --set "redis=$BENCH_REDIS" || { kill "$redis_pid"; return 1; }
	b_pid=$launched
	start_ward "$WARD_BIN" -cluster || { kill "$b_pid" "$redis_pid"; return 1; }
	sleep 1		# both instances up on Redis
	k=1
	while another $k; do
		bench "fanout-x8#$k" fanout --conns 1000 \
		    --path "${ROOM_PATH}x8r$k" --sub-target 127.0.0.1:$((PORT + 3)) \
		    --inflight 8 --warmup 2 --duration "$DUR" --setup-timeout 30
		bench "fanout-x100-r1000#$k" fanout --conns 100 \
		    --path "${ROOM_PATH}x100r$k" --rate 1000 --spin \
		    --sub-target 127.0.0.1:$((PORT + 3)) \
		    --inflight 64 --warmup 2 --duration "$DUR" --setup-timeout 30
		k=$((k + 1))
	done
	stop_server
	kill "$b_pid" "$redis_pid" 2>/dev/null
	wait "$b_pid" "$redis_pid" 2>/dev/null
	BENCH_REDIS=
}

# ward_runs BINARY SUFFIX: the ward set; labels get SUFFIX ("" = poll()).
ward_runs() {
	S=$2
	start_ward "$1" "$S" || return 1
	fan=1
	status=$("$WARDLOAD" probe --setup-timeout 5 --path \
	    '/ws/stt/room/?role=p&name=probe&room=probe' "$TARGET" |
	    sed -n 's/^RESULT .* status=\([0-9-]*\).*/\1/p')
	if [ "$status" = 404 ]; then
		say ""
		say "fanout: endpoint not available yet"
		fan=
	fi
	k=1
	while another $k; do
		bench_ref "ref-32$S#$k" 32
		bench "ward-32$S#$k" echo --conns 100 --size 32 \
		    --duration "$DUR" --setup-timeout 10
		bench_ref "ref-4k$S#$k" 4096
		bench "ward-4k$S#$k" echo --conns 100 --size 4096 \
		    --duration "$DUR" --setup-timeout 10
		bench "hs-flat$S#$k" handshake --conns 10 --duration "$DUR"
		# --spin: the paced runs leave CPUs idle, and an idle vCPU
		# can take milliseconds to wake; the generator must not add
		# that to what it measures (the server still sleeps in poll)
		bench "hs-1000$S#$k" handshake --conns 10 --rate 1000 --spin \
		    --duration "$DUR"
		[ -n "$fan" ] && fanout_runs "$S" $k
		k=$((k + 1))
	done
	stop_server
	# idle: a fresh server each time, so that RSS growth is this run's
	k=1
	while another $k; do
		start_ward "$1" "$S" || return 1
		bench "idle-10k$S#$k" idle --conns 10000 --hold "$DUR" \
		    --setup-timeout 30
		stop_server
		k=$((k + 1))
	done
}

# fanout_runs SUFFIX K: a room of its own per run and repetition.
fanout_runs() {
	bench "fanout-1$1#$2" fanout --conns 1000 \
	    --path "${ROOM_PATH}bench1r$2" \
	    --inflight 1 --warmup 2 --duration "$DUR" --setup-timeout 30
	bench "fanout-8$1#$2" fanout --conns 1000 \
	    --path "${ROOM_PATH}bench8r$2" \
	    --inflight 8 --warmup 2 --duration "$DUR" --setup-timeout 30
	bench "fanout-16$1#$2" fanout --conns 1000 \
	    --path "${ROOM_PATH}bench16r$2" \
	    --inflight 16 --warmup 2 --duration "$DUR" --setup-timeout 30
	# the latency target: 100 members, 1,000 msg/s, in flight not limiting
	bench "fanout-100-r1000$1#$2" fanout --conns 100 \
	    --path "${ROOM_PATH}pace100r$2" --rate 1000 --spin \
	    --inflight 64 --warmup 2 --duration "$DUR" --setup-timeout 30
	# scope all: every other /ws socket (the publisher is one of them)
	bench "fanout-all$1#$2" fanout --conns 1000 --path /ws \
	    --pub-path /ws --pub-msg "$ALL_MSG" \
	    --inflight 8 --warmup 2 --duration "$DUR" --setup-timeout 30
}

# start_tls BINARY CERT: a fresh ward with a plain listener on TARGET and
# a TLS one on TLS_TARGET (CERT: ec or rsa, build/dev-tls's leaves).
start_tls() {
	rm -rf "$BENCH_DIR/ward-data"
	start_server "$BENCH_DIR/ward-tls-$2.log" "$1" \
	    --set "listen=$TARGET" --set "tls_listen=$TLS_TARGET" \
	    --set "tls_cert=$TLS_DIR/server-$2.pem" \
	    --set "tls_key=$TLS_DIR/server-$2.key" \
	    --set log_level=warn --set rate_limit=0 \
	    --set max_connections=12000 --set tls_max_connections=1024 \
	    --set "data_dir=$BENCH_DIR/ward-data" || return 1
	# the listener must answer TLS, not only accept
	if ! "$WARDLOAD" handshake --tls-only --count 1 --duration 1 \
	    --warmup 0 "$TLS_TARGET" 2>&1 | grep -q ' opened=[1-9]'; then
		say "no TLS handshake on $TLS_TARGET; see" \
		    "$BENCH_DIR/ward-tls-$2.log"
		stop_server
		return 1
	fi
}

# tls_hs NAME#K ARGS: a handshake run, 10 connectors flat out, --tls-only.
tls_hs() {
	n=$1
	shift
	bench_tls "$n" handshake --tls-only --conns 10 --duration "$DUR" "$@"
}

# tls_runs BINARY: the TLS set (6. above).
tls_runs() {
	if [ ! -f "$TLS_DIR/server-ec.pem" ] ||
	    [ ! -f "$TLS_DIR/server-rsa.pem" ]; then
		say ""
		say "tls: no certificates in $TLS_DIR (make dev-tls); skipped"
		return 0
	fi
	start_tls "$1" ec || return 1
	k=1
	while another $k; do
		bench "tls-plain-32#$k" echo --conns 100 --size 32 \
		    --duration "$DUR" --setup-timeout 10
		bench_tls "tls-32#$k" echo --tls --conns 100 --size 32 \
		    --duration "$DUR" --setup-timeout 10
		# the same with wardload's BearSSL client: saturated, the
		# generator's own CPU per round trip shows up in the
		# server's (both CPUs busy), and BearSSL's is the lighter
		bench_tls "tls-32-br#$k" echo --tls --tls-lib bearssl \
		    --conns 100 --size 32 --duration "$DUR" --setup-timeout 10
		# the method check: clear again, the generator spending
		# 1 us more CPU per reply (about what OpenSSL's client adds
		# over TLS): the server does the same work, yet its CPU per
		# round trip rises with the generator's
		bench "tls-plain-32-burn1us#$k" echo --conns 100 --size 32 \
		    --burn-ns 1000 --duration "$DUR" --setup-timeout 10
		# the same at a fixed rate below saturation (TLS_PACE_RATE
		# msg/s in all, the same for both): as many wake-ups per
		# message in clear as over TLS
		bench "tls-plain-32-paced#$k" echo --conns 100 --size 32 \
		    --rate "$PACE" --duration "$DUR" --setup-timeout 10
		bench_tls "tls-32-paced#$k" echo --tls --conns 100 --size 32 \
		    --rate "$PACE" --duration "$DUR" --setup-timeout 10
		bench_tls "tls-32-br-paced#$k" echo --tls --tls-lib bearssl \
		    --conns 100 --size 32 --rate "$PACE" --duration "$DUR" \
		    --setup-timeout 10
		tls_hs "tls-hs-x25519#$k" --tls-groups X25519:P-256
		tls_hs "tls-hs-p256#$k" --tls-groups P-256
		tls_hs "tls-hs-resumed#$k" --tls-groups X25519:P-256 \
		    --tls-resume
		k=$((k + 1))
	done
	stop_server
	start_tls "$1" rsa || return 1
	k=1
	while another $k; do
		tls_hs "tls-hs-rsa#$k" --tls-groups X25519:P-256
		k=$((k + 1))
	done
	stop_server
	k=1
	while another $k; do
		start_tls "$1" ec || return 1
		bench_tls "tls-idle-1k#$k" idle --tls --conns "$TLS_IDLE" \
		    --hold "$DUR" --setup-timeout 30
		stop_server
		k=$((k + 1))
	done
}

# ---- summary ----

# vals RUN KEY: KEY of every RESULT line of RUN (RUN#1, RUN#2, ...).
vals() {
	awk -v n="$1" -v k="$2" '
	{ b = $1; sub(/#[0-9]+$/, "", b) }
	b == n { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1)
		print substr($i, length(k) + 2) }' "$RESULTS"
}

# med_range: numbers on stdin, one a line, as "median [min-max]" (the
# median alone for one number, or with "med" as $1); "-" when none.
med_range() {
	sort -g | awk -v only="${1:-}" '
	{ v[++n] = $1; d = $1
	  if (sub(/^[^.]*\./, "", d) && length(d) > dec) dec = length(d) }
	END {
		if (n == 0) { print "-"; exit }
		if (n % 2) m = v[(n + 1) / 2]
		else m = sprintf("%." dec + 0 "f",
		    (v[n / 2] + v[n / 2 + 1]) / 2)
		if (only != "" || n == 1) print m
		else printf "%s [%s-%s]\n", m, v[1], v[n]
	}'
}

# stat RUN KEY [med]: median [min-max] of KEY over RUN's repetitions.
stat() {
	vals "$1" "$2" | med_range "${3:-}"
}

# count RUN: how many repetitions of RUN left a RESULT line.
count() {
	awk -v n="$1" '{ b = $1; sub(/#[0-9]+$/, "", b) }
	b == n { c++ } END { print c + 0 }' "$RESULTS"
}

# sum RUN KEY: KEY added up over RUN's repetitions, "-" when none.
sum() {
	vals "$1" "$2" | awk '{ s += $1; n++ } END { print n ? s : "-" }'
}

# ratio A B KEY: A#k's KEY over B#k's for each repetition k (the two ran
# back to back), as median [min-max].
ratio() {
	awk -v a="$1" -v b="$2" -v k="$3" '
	{ n = $1; r = n; sub(/#[0-9]+$/, "", n); sub(/^.*#/, "", r)
	  for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) {
		v = substr($i, length(k) + 2)
		if (n == a) x[r] = v; else if (n == b) y[r] = v } }
	END { for (r in x) if ((r in y) && y[r] + 0 > 0)
		printf "%.2f\n", x[r] / y[r] }' "$RESULTS" | med_range
}

row() {
	printf '%-22s %2s %-25s %8s  %-25s %-22s %s\n' "$1" "$2" "$3" "$4" \
	    "$5" "$6" "$7"
}

summary_echo() {
	row "" "n" "msg/s" "p50 us" "p99 us" "CPU us/rt" "vs reference"
	for r in ref-32 ward-32 ref-32-epoll ward-32-epoll ref-4k ward-4k \
	    ref-4k-epoll ward-4k-epoll; do
		case $r in
		ref-*) vs=1 ;;
		*) vs=$(ratio $r "ref-${r#ward-}" srv_cpu_us_per_rt) ;;
		esac
		row "$r" "$(count $r)" "$(stat $r msgs_per_s)" \
		    "$(stat $r rtt_p50_us med)" "$(stat $r rtt_p99_us)" \
		    "$(stat $r srv_cpu_us_per_rt)" "$vs"
	done
	say "  vs reference: ward's CPU per round trip over epoll_echo's," \
	    "run just before it (each repetition's pair)"
}

summary_tls() {
	say ""
	row "TLS" "n" "msg/s or hs/s" "p50 us" "p99 us" "CPU us/rt or /hs" \
	    "vs clear; gen CPU us; srv user us"
	for r in tls-plain-32 tls-32 tls-32-br tls-plain-32-burn1us \
	    tls-plain-32-paced tls-32-paced tls-32-br-paced; do
		case $r in
		tls-plain-32-burn1us)
			vs=$(ratio $r tls-plain-32 srv_cpu_us_per_rt) ;;
		tls-plain-*) vs=1 ;;
		*-paced) vs=$(ratio $r tls-plain-32-paced srv_cpu_us_per_rt) ;;
		*) vs=$(ratio $r tls-plain-32 srv_cpu_us_per_rt) ;;
		esac
		row "$r" "$(count $r)" "$(stat $r msgs_per_s)" \
		    "$(stat $r rtt_p50_us med)" "$(stat $r rtt_p99_us)" \
		    "$(stat $r srv_cpu_us_per_rt)" \
		    "$vs; $(stat $r gen_cpu_us_per_rt med); $(stat $r \
		    srv_usr_us_per_rt med)"
	done
	for r in tls-hs-x25519 tls-hs-p256 tls-hs-rsa tls-hs-resumed; do
		row "$r" "$(count $r)" "$(stat $r hs_per_s)" \
		    "$(stat $r hs_p50_us med)" "$(stat $r hs_p99_us)" \
		    "$(stat $r srv_cpu_us_per_hs)" \
		    "; $(stat $r gen_cpu_us_per_hs med)"
	done
	row "" "n" "opened" "RSS kB" "B per conn" "" ""
	r=tls-idle-1k
	row $r "$(count $r)" "$(stat $r opened med)" \
	    "$(stat $r rss_open_kb med)" "$(stat $r rss_per_conn_b)" "" ""
	say "  targets: TLS echo CPU <= 1.35 x clear (tls-32-br (BearSSL" \
	    "generator) vs tls-plain-32, same server, back to back," \
	    "saturated; tls-32 is the same with wardload's OpenSSL client;" \
	    "tls-plain-32-burn1us is clear with a generator spending 1 us" \
	    "more per reply: what the generator alone does to the row;" \
	    "the -paced rows, at $PACE msg/s for both, are shown beside" \
	    "it, not the target; gen CPU us: the generator's CPU per" \
	    "round trip; srv user us: the user-mode part of the server's," \
	    "from tick-sampled utime: rough, and noise in the -paced" \
	    "rows);" \
	    "<= 650 us per full handshake" \
	    "(ECDSA P-256 + X25519: tls-hs-x25519), <= 100 us per resumed" \
	    "one; <= 24 KiB per idle TLS connection (RSS; the pool's" \
	    "reserved bytes per slot: ward --print-limits)"
}

summary() {
	say ""
	say "== summary (server CPU 0, generator CPU 1; $DUR s windows;" \
	    "median [min-max] of n runs)"
	if [ "$ONLY" = cluster ]; then
		summary_fanout
		say ""
		say "RESULT lines: $RESULTS; total time $(($(date +%s) - T0)) s"
		return
	fi
	if [ "$ONLY" = tls ]; then
		summary_tls
		say ""
		say "RESULT lines: $RESULTS; total time $(($(date +%s) - T0)) s"
		return
	fi
	summary_echo
	say ""
	row "" "n" "hs/s" "p50 us" "p99 us" "CPU us/hs" ""
	for r in hs-flat hs-1000 hs-flat-epoll hs-1000-epoll; do
		row "$r" "$(count $r)" "$(stat $r hs_per_s)" \
		    "$(stat $r hs_p50_us med)" "$(stat $r hs_p99_us)" \
		    "$(stat $r srv_cpu_us_per_hs)" ""
	done
	say "  target: p99 < 5000 us at 1,000 connects/s (hs-1000)"
	say ""
	row "" "n" "opened" "RSS kB" "B per conn" "" ""
	for r in idle-10k idle-10k-epoll; do
		row $r "$(count $r)" "$(stat $r opened med)" \
		    "$(stat $r rss_open_kb med)" "$(stat $r rss_per_conn_b)" \
		    "" ""
	done
	summary_fanout
	say "  sends over 1 ms behind the 1,000/s pace:" \
	    "$(sum fanout-100-r1000 late_sends) (poll)," \
	    "$(sum fanout-100-r1000-epoll late_sends) (epoll)"
	summary_tls
	say ""
	say "RESULT lines: $RESULTS; total time $(($(date +%s) - T0)) s"
}

summary_fanout() {
	say ""
	row "" "n" "deliveries/s" "p50 us" "p99 us" "CPU us/delivery" \
	    "all p99 us; lost/dups; gen CPU %"
	for r in fanout-1 fanout-8 fanout-16 fanout-100-r1000 fanout-all \
	    fanout-x8 fanout-x100-r1000 fanout-1-epoll fanout-8-epoll fanout-16-epoll \
	    fanout-100-r1000-epoll fanout-all-epoll; do
		last="$(stat $r all_p99_us med); $(sum $r lost)/$(sum $r dups)"
		row "$r" "$(count $r)" "$(stat $r deliveries_per_s)" \
		    "$(stat $r copy_p50_us med)" "$(stat $r copy_p99_us)" \
		    "$(stat $r srv_cpu_us_per_delivery)" \
		    "$last; $(stat $r gen_cpu_pct med)"
	done
	say "  p50, p99: per subscriber copy, publish to receipt;" \
	    "all p99: per message, until its last copy"
	say "  target: p99 < 2000 us for a 100-member room at 1,000 msg/s" \
	    "(fanout-100-r1000)"
	say "  cross-instance (fanout-x*: publisher on A, subscribers split" \
	    "over A and B through Redis): target >= 50 % of fanout-8's" \
	    "deliveries/s, p99 < 5000 us at 1,000 msg/s x 100 subscribers"
}

main() {
	tools="$WARDLOAD $EPOLL_ECHO"
	[ -n "$ONLY" ] && tools=$WARDLOAD
	for t in $tools; do
		if [ ! -x "$t" ]; then
			say "missing $t (make bench-tools)"
			exit 1
		fi
	done
	mkdir -p "$BENCH_DIR"
	: >"$RESULTS"
	if [ "$ONLY" = cluster ]; then
		# the single-instance fan-out rows, then the cross-instance
		# ones, in one run (`make bench-cluster`)
		start_ward "$WARD_BIN" "" || exit 1
		k=1
		while another $k; do
			fanout_runs "" $k
			k=$((k + 1))
		done
		stop_server
		cluster_runs || say "cross-instance fanout failed"
		summary
		exit 0
	fi
	if [ "$ONLY" = tls ]; then
		if [ ! -x "$WARD_BIN" ]; then
			say "ward: $WARD_BIN not built"
			exit 1
		fi
		tls_runs "$WARD_BIN" || say "ward with TLS failed to start"
		summary
		exit 0
	fi
	reference || say "reference server failed; continuing"
	if [ -x "$WARD_BIN" ]; then
		ward_runs "$WARD_BIN" "" ||
		    say "ward failed to start; see $BENCH_DIR/ward.log"
		cluster_runs ||
		    say "cross-instance fanout failed; see $BENCH_DIR/ward-b.log"
		tls_runs "$WARD_BIN" || say "ward with TLS failed to start"
		if [ -n "${WARD_EPOLL_BIN:-}" ] && [ -x "$WARD_EPOLL_BIN" ]; then
			ward_runs "$WARD_EPOLL_BIN" -epoll ||
			    say "ward (epoll) failed; see $BENCH_DIR/ward-epoll.log"
		fi
	else
		say ""
		say "ward: $WARD_BIN not built; nothing to compare"
	fi
	summary
	exit 0
}

main
