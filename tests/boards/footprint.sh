#!/bin/sh
# footprint.sh - put a Markdown table between the footprint markers of a file.
#
# usage: footprint.sh FILE TABLE
# Replaces the lines between "<!-- footprint:begin -->" and
# "<!-- footprint:end -->" in FILE with TABLE's contents plus a line saying
# when and how it was made.  FILE without the markers is left alone.
set -eu
file=$1 table=$2
if ! grep -q '^<!-- footprint:begin -->' "$file" ||
    ! grep -q '^<!-- footprint:end -->' "$file"; then
	echo "footprint: no <!-- footprint:begin/end --> markers in $file; not updated" >&2
	exit 0
fi
stamp="Measured by \`make footprint\` on $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src port 2>/dev/null || echo ' + local changes')."
awk -v table="$table" -v stamp="$stamp" '
	/^<!-- footprint:begin -->/ {
		print; print ""
		while ((getline line < table) > 0) print line
		print ""; print stamp; print ""
		skip = 1; next
	}
	/^<!-- footprint:end -->/ { skip = 0 }
	!skip { print }
' "$file" > "$file.tmp"
mv "$file.tmp" "$file"
echo "footprint: table written to $file"
