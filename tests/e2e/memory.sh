# memory.sh — memory does not grow with the evidence. Peak RSS (GNU time's %M, KiB) of
# `seal` and of `open` for a 256 MiB evidence file must be within 16 MiB of the same
# command on a 1 MiB file (issue 2; `make bench` repeats it with 1 GiB).
#
# The directory is a normal one, not --test: the codename's Argon2id memory is the same
# fixed amount in both runs, which is the point of the comparison. The intake key uses
# the interactive level only to keep the suite fast. Under sanitizers (make check) RSS
# measures the sanitizer's shadow memory and quarantine, so the comparison is skipped.
. "$(dirname "$0")/lib.sh"

LIMIT_KIB=16384
TIME=/usr/bin/time

D="$T/demo"
mkdeployment "$D" demo || done_testing
random_file "$T/small.bin" 1
random_file "$T/large.bin" 256

# Peak RSS in KiB of one sealdrop command, into $RSS; its status into $RC.
measure() { # label sealdrop-args...
	_label=$1
	shift
	RC=0
	"$TIME" -f %M -o "$T/rss.$_label" "$SEALDROP" "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
	RSS=$(tail -n 1 "$T/rss.$_label" 2>/dev/null)
	case $RSS in
	'' | *[!0-9]*) RSS="" ;;
	esac
}

run_pair() { # size-label: seal and open the evidence file $T/<label>.bin
	measure "seal-$1" seal --directory "$D/directory.json" --root "$D/root.key.pub" \
		--report docs/examples/report.json --identity docs/examples/identity.json \
		--evidence "$T/$1.bin" --out "$T/$1.sdx" --codename-out "$T/$1.codename" --quiet
	[ "$RC" -eq 0 ] && [ -n "$RSS" ] || { not_ok "seal with the $1 file (status $RC, rss '$RSS')"; _diag_output; }
	eval "seal_$1=\$RSS"
	measure "open-$1" open "$T/$1.sdx" --intake "$D/intake.key" --passphrase-file "$PW" --out "$T/$1.opened"
	[ "$RC" -eq 0 ] && [ -n "$RSS" ] || { not_ok "open the $1 package (status $RC, rss '$RSS')"; _diag_output; }
	eval "open_$1=\$RSS"
	check "the $1 evidence opens byte-identical" cmp "$T/$1.bin" "$T/$1.opened/evidence/$1.bin"
	rm -rf "$T/$1.sdx" "$T/$1.opened"
}

compare() { # command small-kib large-kib
	if [ -z "$2" ] || [ -z "$3" ]; then
		not_ok "$1: peak RSS measured for both sizes"
		return
	fi
	_diff=$(($3 - $2))
	_text="$1: peak RSS 256 MiB file $3 KiB vs 1 MiB file $2 KiB, difference $_diff KiB <= $LIMIT_KIB KiB"
	if [ "$_diff" -le "$LIMIT_KIB" ]; then ok "$_text"; else not_ok "$_text"; fi
}

if [ ! -x "$TIME" ]; then
	not_ok "$TIME (GNU time, Debian package 'time') is installed"
	done_testing
fi
seal_small="" open_small="" seal_large="" open_large=""
run_pair small
run_pair large
if [ -n "${SEALDROP_SANITIZED:-}" ]; then
	skip "seal peak RSS comparison under sanitizers ($seal_large vs $seal_small KiB)"
	skip "open peak RSS comparison under sanitizers ($open_large vs $open_small KiB)"
else
	compare seal "$seal_small" "$seal_large"
	compare open "$open_small" "$open_large"
fi

done_testing
