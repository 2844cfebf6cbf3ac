#!/bin/sh
# check_packaging.sh - the overlay's service files, checked on this machine.
#
# usage: check_packaging.sh WARD_BIN
#   WARD_BIN   a ward binary that runs here (host or static build)
#
# 1. packaging/ward.service passes `systemd-analyze verify` with no warning
#    (paths pointed at WARD_BIN and a test config), when systemd-analyze exists;
# 2. packaging/S50ward parses (sh -n, busybox sh -n);
# 3. S50ward start/status/stop/restart drives a real ward on 127.0.0.1 with
#    Debian's start-stop-daemon, and again with BusyBox's applets (when
#    busybox is installed): /health answers while running, SIGTERM stops it;
# 4. a config --check-config refuses makes `start` fail (exit 1) without
#    starting anything;
# 5. TLS (issue 12): ward.conf.in carries the commented tls_listen (:8443),
#    tls_cert and tls_key (/etc/ward/tls/) lines; uncommented, pointed at
#    build/dev-tls's certificates, they pass --check-config, S50ward starts
#    ward with them (https /health with curl --cacert), `reload-tls`
#    (SIGHUP) swaps in a second certificate without a restart, and the unit
#    reloads with SIGHUP.  Needs `make dev-tls` (TLS_DIR, default
#    build/dev-tls).
# Prints "N passed, M failed".
set -u
ward=$(readlink -f "$1")
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ward-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/ward.conf" <<X
listen = 127.0.0.1:$port
data_dir = $tmp/data
log = stderr
X
printf 'listen = 127.0.0.1:1\nno_such_key = 1\n' > "$tmp/broken.conf"

# 1. systemd unit
if command -v systemd-analyze >/dev/null 2>&1; then
	sed -e "s|/usr/sbin/ward|$ward|g" -e "s|/etc/ward/ward.conf|$tmp/ward.conf|g" \
	    "$top/packaging/ward.service" > "$tmp/ward.service"
	out=$(systemd-analyze verify "$tmp/ward.service" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then ok "ward.service: systemd-analyze verify clean"
	else bad "ward.service: systemd-analyze verify" "$out"; fi
	for k in Type=notify WatchdogSec= Restart=on-failure NoNewPrivileges=yes \
	    ProtectSystem=strict DynamicUser=yes StateDirectory=ward \
	    'ExecReload=/bin/kill -HUP $MAINPID'; do
		check "ward.service has $k" grep -q "^$k" "$top/packaging/ward.service"
	done
else
	echo "skipped: systemd-analyze not installed"
fi

# 2. syntax
check "S50ward: sh -n" sh -n "$top/packaging/S50ward"
if command -v busybox >/dev/null 2>&1; then
	check "S50ward: busybox sh -n" busybox sh -n "$top/packaging/S50ward"
fi

# alive and not a zombie (this machine's pid 1 may not reap orphans)
alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

health() {
	curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health"
}

# 3. start/status/stop with one flavour of start-stop-daemon
run_init() {
	flavour=$1 shell=$2
	export DAEMON="$ward" CONFIG="$tmp/ward.conf" PIDFILE="$tmp/ward.pid" \
	    DATA_DIR="$tmp/data" DEFAULTS="$tmp/none" WARD_USER=nobody-here
	out=$($shell "$top/packaging/S50ward" start 2>&1)
	check "$flavour: start -> exit 0 ($out)" [ $? -eq 0 ]
	check "$flavour: pid file written" [ -s "$PIDFILE" ]
	pid=$(cat "$PIDFILE" 2>/dev/null || echo 0)
	check "$flavour: /health 200 while running" [ "$(health)" = 200 ]
	out=$($shell "$top/packaging/S50ward" status 2>&1)
	check "$flavour: status -> 0 ($out)" [ $? -eq 0 ]
	out=$($shell "$top/packaging/S50ward" start 2>&1)
	check "$flavour: second start -> already running ($out)" \
	    sh -c "echo '$out' | grep -q 'already running'"
	out=$($shell "$top/packaging/S50ward" restart 2>&1)
	check "$flavour: restart -> exit 0" [ $? -eq 0 ]
	check "$flavour: restart made a new process" [ "$(cat "$PIDFILE" 2>/dev/null)" != "$pid" ]
	check "$flavour: /health 200 after restart" [ "$(health)" = 200 ]
	pid=$(cat "$PIDFILE" 2>/dev/null || echo 0)
	out=$($shell "$top/packaging/S50ward" stop 2>&1)
	check "$flavour: stop -> OK ($out)" sh -c "echo '$out' | grep -q 'OK'"
	check "$flavour: process gone after stop" eval "! alive $pid"
	check "$flavour: pid file removed" [ ! -e "$PIDFILE" ]
	$shell "$top/packaging/S50ward" status >/dev/null 2>&1
	check "$flavour: status when stopped -> 3" [ $? -eq 3 ]
	out=$(CONFIG="$tmp/broken.conf" $shell "$top/packaging/S50ward" start 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then ok "$flavour: broken config -> start fails"
	else bad "$flavour: broken config -> start fails" "$out; $(ls -l /proc/$(cat "$PIDFILE")/exe; cat /proc/$(cat "$PIDFILE")/status | head -3)"; fi
	check "$flavour: broken config -> nothing started" [ ! -e "$PIDFILE" ]
}

if command -v start-stop-daemon >/dev/null 2>&1; then
	run_init "S50ward (start-stop-daemon)" sh
else
	echo "skipped: start-stop-daemon not installed"
fi
if command -v busybox >/dev/null 2>&1; then
	bb=$tmp/bb
	mkdir -p "$bb"
	for a in sh start-stop-daemon sleep id kill cat mkdir chown chmod rm printf sed; do
		ln -s "$(command -v busybox)" "$bb/$a"
	done
	PATH="$bb:$PATH" run_init "S50ward (busybox)" "$bb/sh"
else
	echo "skipped: busybox not installed (apt-get install busybox)"
fi

# 5. TLS: the conf's own lines, uncommented, with S50ward
tls_dir=${TLS_DIR:-$top/build/dev-tls}
for l in '# tls_listen = 0.0.0.0:8443' '# tls_cert = /etc/ward/tls/cert.pem' \
    '# tls_key = /etc/ward/tls/key.pem'; do
	check "ward.conf.in: '$l'" grep -qxF "$l" "$top/packaging/ward.conf.in"
done

fingerprint() {
	echo | openssl s_client -connect "127.0.0.1:$tport" \
	    -CAfile "$tls_dir/ca.pem" -verify_return_error 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

run_tls() {
	tport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$tmp/tls"
	cp "$tls_dir/server-ec.pem" "$tmp/tls/cert.pem"
	cp "$tls_dir/server-ec.key" "$tmp/tls/key.pem"
	chmod 0600 "$tmp/tls/key.pem"
	sed -e 's/^# \(tls_[a-z]* = \)/\1/' -e "s|0.0.0.0:8443|127.0.0.1:$tport|" \
	    -e "s|/etc/ward/tls/|$tmp/tls/|" -e "s|@LISTEN@|127.0.0.1:$port|" \
	    -e "s|@DATA_DIR@|$tmp/data|" -e 's|@LOG@|stderr|' -e 's|@[A-Z_]*@||' \
	    "$top/packaging/ward.conf.in" > "$tmp/tls.conf"
	check "TLS conf: tls_listen uncommented" grep -q "^tls_listen = 127.0.0.1:$tport" "$tmp/tls.conf"
	out=$("$ward" --check-config --config "$tmp/tls.conf" 2>&1)
	check "TLS conf: --check-config ($out)" sh -c "echo '$out' | grep -q 'configuration ok'"
	export DAEMON="$ward" CONFIG="$tmp/tls.conf" PIDFILE="$tmp/ward.pid" \
	    DATA_DIR="$tmp/data" DEFAULTS="$tmp/none" WARD_USER=nobody-here
	out=$(sh "$top/packaging/S50ward" start 2>&1)
	check "TLS: S50ward start ($out)" [ $? -eq 0 ]
	code=$(curl -s -m 5 --cacert "$tls_dir/ca.pem" -o /dev/null -w '%{http_code}' \
	    "https://127.0.0.1:$tport/health")
	check "TLS: https /health 200 with curl --cacert (got $code)" [ "$code" = 200 ]
	pid=$(cat "$PIDFILE" 2>/dev/null || echo 0)
	want=$(openssl x509 -in "$tls_dir/server-ec2.pem" -noout -fingerprint -sha256)
	before=$(fingerprint)
	check "TLS: the first certificate served" [ -n "$before" ] && [ "$before" != "$want" ]
	cp "$tls_dir/server-ec2.pem" "$tmp/tls/cert.pem"
	cp "$tls_dir/server-ec2.key" "$tmp/tls/key.pem"
	out=$(sh "$top/packaging/S50ward" reload-tls 2>&1)
	check "TLS: S50ward reload-tls -> 0 ($out)" [ $? -eq 0 ]
	i=0
	while [ "$(fingerprint)" != "$want" ] && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "TLS: after reload-tls the new certificate is served" [ "$(fingerprint)" = "$want" ]
	check "TLS: same process (no restart)" [ "$(cat "$PIDFILE" 2>/dev/null)" = "$pid" ]
	out=$(sh "$top/packaging/S50ward" stop 2>&1)
	check "TLS: stop -> OK ($out)" sh -c "echo '$out' | grep -q 'OK'"
}

if [ ! -f "$tls_dir/server-ec2.pem" ]; then
	bad "TLS: no certificates in $tls_dir (make dev-tls)"
elif command -v start-stop-daemon >/dev/null 2>&1; then
	run_tls
else
	echo "skipped: start-stop-daemon not installed"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
