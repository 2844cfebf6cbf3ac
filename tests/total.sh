#!/bin/sh
# tests/total.sh LOG... - the overall line of `make test`.
#
# Each LOG is one step's output (build/test-logs/NN-step.log) with its exit
# status in LOG.rc.  A step counts its named totals ("check-limits: N
# passed, M failed", "test-boards: ...") plus its last bare "N passed, M
# failed" line (a runner's final sum: run.py, the unit binary, the fuzz
# replay).  A step that failed without a failed count adds one failure.
# Prints one line per step and "N passed, M failed"; exits 1 if M > 0.
tp=0
tf=0
for log in "$@"; do
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	set -- $(awk '
	/^[a-z][a-z0-9_-]*: [0-9]+ passed, [0-9]+ failed$/ {
		np += $2; nf += $4; next }
	/^[0-9]+ passed, [0-9]+ failed$/ { lp = $1; lf = $3; seen = 1 }
	END { printf "%d %d %d\n", np + lp, nf + lf, seen + (np + nf > 0) }
	' "$log")
	p=$1 f=$2 any=$3
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	if [ "$any" = 0 ] && [ "$rc" = 0 ]; then
		echo "  $(basename "$log" .log): no summary line (exit 0)"
	fi
	printf '  %-34s %6d passed, %4d failed%s\n' "$(basename "$log" .log)" \
	    "$p" "$f" "$([ "$rc" = 0 ] || echo "  (exit $rc)")"
	tp=$((tp + p))
	tf=$((tf + f))
done
echo "$tp passed, $tf failed"
[ "$tf" = 0 ]
