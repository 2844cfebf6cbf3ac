#!/bin/sh
# tests/wall.sh OBJDIR - the wall between the core and the application
# layer (docs/design.md "Layers"):
#
#  1. nm: no core object (OBJDIR/src/*.o but main.o) references a symbol
#     that a src/svc/ object defines, or has any symbol with svc_ or a
#     clinic word in its name: the core's call graph has no edge into
#     src/svc/.
#  2. http.c is a pure parser: http.o calls nothing but the C library's
#     string functions (no cfg, conn, loop, port, reply...).
#  3. grep: no clinic word in a core source (src/*.c but main.c, and the
#     core headers src/internal.h, src/auth.h), comments included.
#
# src/config.h is the one limits file of both layers (every limit with
# its rationale, STYLE 3) and src/main.c the program that joins them:
# neither is core.  Prints "check-wall: N passed, M failed"; exits 1 on M.
d=${1:?usage: tests/wall.sh OBJDIR}
words='doctor|diagnos|consult|practice|notification|telemed|whiteboard|patient'
pass=0
fail=0
core_c=$(ls src/*.c | grep -v '^src/main\.c$')
app=$d/wall-app.syms
for o in "$d"/src/svc/*.o; do nm --defined-only -g "$o"; done 2>/dev/null |
    awk '{ print $NF }' | sort -u > "$app"
if [ ! -s "$app" ]; then
	echo "check-wall: no $d/src/svc/*.o (build first)"
	echo "check-wall: 0 passed, 1 failed"
	exit 1
fi
for c in $core_c; do
	o=$d/${c%.c}.o
	if [ ! -f "$o" ]; then
		echo "check-wall: $o missing (build first)"
		fail=$((fail + 1))
		continue
	fi
	bad=$(nm -u "$o" | awk '{ print $NF }' | sort -u | comm -12 - "$app")
	bad=$(echo $bad $(nm "$o" | awk '{ print $NF }' |
	    grep -E -i "^svc_|$words" | sort -u))
	if [ -n "$bad" ]; then
		echo "FAIL nm $o:" $bad
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
extra=$(nm -u "$d/src/http.o" 2>/dev/null | awk '{ print $NF }' |
    grep -v -E '^(mem(chr|cmp|cpy|move|set)|str(chr|len|ncmp|cmp)|__.*)$')
if [ -f "$d/src/http.o" ] && [ -z "$extra" ]; then
	pass=$((pass + 1))
else
	echo "FAIL http.o is not a pure parser: calls" $extra
	fail=$((fail + 1))
fi
for f in $core_c src/internal.h src/auth.h; do
	hits=$(grep -n -i -E "$words" "$f")
	if [ -n "$hits" ]; then
		echo "FAIL grep $f:"
		echo "$hits" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "check-wall: $pass passed, $fail failed"
[ "$fail" = 0 ]
