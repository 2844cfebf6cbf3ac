#!/bin/sh
# replay.sh NAME... - run every corpus file of each fuzz target through its
# replay build (build/fuzz-replay/NAME over tests/fuzz/corpus/NAME) and
# print the total as "N passed, M failed" (corpus files).  A target whose
# binary is missing counts as one failure; a missing corpus runs nothing.
# Exits 1 if anything failed.  Works for any NAME (make fuzz-replay passes
# every tests/fuzz/fuzz_NAME.c).

cd "$(dirname "$0")/../.." || exit 1

# Sanitizer reports are failures, not warnings (replay.c forks per file).
: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1}"
: "${ASAN_OPTIONS:=abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS ASAN_OPTIONS

pass=0
fail=0
for name in "$@"; do
	bin=build/fuzz-replay/$name
	corpus=tests/fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		echo "fuzz-replay $name: $bin is missing" >&2
		fail=$((fail + 1))
		continue
	fi
	out=$("$bin" "$corpus")
	last=$(printf '%s\n' "$out" | tail -n 1)
	p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
	f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "fuzz-replay $name: no summary from $bin" >&2
		fail=$((fail + 1))
		continue
	fi
	echo "fuzz-replay $name: $p passed, $f failed"
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
