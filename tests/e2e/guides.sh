# guides.sh — the newcomer's guides (docs/guides/*.md) work as written (issue 8, item 9).
#
# Every fenced block whose info string is `sh runnable step=N` in the four English guides
# is extracted (awk), and all of them are run in ONE shell, in the order of their step
# numbers (ties: operator, whistleblower, attorney, officer, then their order in the
# file), so that the variables one block sets are there for the next, as they are for a
# reader who runs the guides in one terminal. The shell runs with `sh -e`: a command
# that fails stops it. After each block a marker is written; each block is one TAP line,
# ok when its marker is there. Blocks marked `sh not-runnable` (systemd, Tor, a second
# machine) are not run. The test gives the blocks WORK (a fresh directory), PORT (a free
# port) and a PATH whose sealdrop and sealdropd are $SEALDROP and $SEALDROPD; it stops
# the server the guides started ($WORK/sealdropd.pid) whatever happened.
#
# The Korean guides (docs/guides/ko/*.md) must have the same runnable blocks, with the same
# step numbers and the same code: only lines that are comments (first non-blank
# character '#') may differ, so a Korean reader runs exactly what the test ran.
#
# GUIDES_LOG=FILE keeps the blocks' output (for writing the guides' sample output).
. "$(dirname "$0")/lib.sh"

GUIDES="operator whistleblower attorney officer"
G=docs/guides

case $SEALDROP in /*) ;; *) SEALDROP=$TOP/$SEALDROP ;; esac
case $SEALDROPD in /*) ;; *) SEALDROPD=$TOP/$SEALDROPD ;; esac

# Extracts the runnable blocks of FILE into DIR/N (N = 1, 2, ... in file order) and prints
# one line per block: "STEP N" ("- N" for a runnable block without a step number).
# Prints "BAD LINENO" for a fence it cannot read (an unclosed block).
extract() { # file dir
	mkdir -p "$2"
	awk -v dir="$2" '
	/^[ \t]*```/ {
		if (infence) {
			infence = 0
			if (out != "") { close(out); out = "" }
			next
		}
		infence = 1
		opened = NR
		info = $0
		sub(/^[ \t]*```/, "", info)
		nw = split(info, w, /[ \t]+/)
		if (w[1] == "sh" && w[2] == "runnable") {
			n++
			step = "-"
			for (i = 3; i <= nw; i++)
				if (w[i] ~ /^step=[0-9]+$/) step = substr(w[i], 6)
			out = dir "/" n
			printf "" > out
			print step, n
		}
		next
	}
	out != "" { print > out }
	END { if (infence) print "BAD", opened }
	' "$1"
}

# --- extract the English guides -------------------------------------------------------
BIN=$T/bin
mkdir -p "$BIN" "$T/blocks"
ln -s "$SEALDROP" "$BIN/sealdrop"
ln -s "$SEALDROPD" "$BIN/sealdropd"
: >"$T/index"
rank=0
for g in $GUIDES; do
	rank=$((rank + 1))
	if [ ! -f "$G/$g.md" ]; then
		not_ok "$G/$g.md exists"
		continue
	fi
	extract "$G/$g.md" "$T/blocks/$g" >"$T/$g.list"
	if grep -q '^BAD' "$T/$g.list"; then
		not_ok "$G/$g.md: every code block is closed (line $(sed -n 's/^BAD //p' "$T/$g.list"))"
		continue
	fi
	if grep -q '^- ' "$T/$g.list"; then
		not_ok "$G/$g.md: every runnable block has a step number (step=N)"
		continue
	fi
	nb=$(wc -l <"$T/$g.list")
	if [ "$nb" -gt 0 ]; then ok "$G/$g.md: $nb runnable blocks"; else not_ok "$G/$g.md has runnable blocks"; fi
	while read -r step n; do
		printf '%s %s %s %s\n' "$step" "$rank" "$n" "$g" >>"$T/index"
	done <"$T/$g.list"
done

# Every guide starts with the same step-0 block (the variables), so each can be read alone.
first=""
same=yes
for g in $GUIDES; do
	n=$(awk '$1 == 0 { print $2; exit }' "$T/$g.list" 2>/dev/null)
	[ -n "$n" ] || { same=no; continue; }
	[ -n "$first" ] || first=$T/blocks/$g/$n
	cmp -s "$first" "$T/blocks/$g/$n" || same=no
done
if [ "$same" = yes ]; then ok "every guide starts with the same step-0 block"; else not_ok "every guide starts with the same step-0 block"; fi

# --- the Korean guides run the same commands --------------------------------------------
# The code of a block: its lines, without the comment lines.
code_of() { # file
	grep -v '^[[:space:]]*#' "$1"
}
for g in $GUIDES; do
	if [ ! -f "$G/ko/$g.md" ]; then
		not_ok "$G/ko/$g.md exists"
		continue
	fi
	extract "$G/ko/$g.md" "$T/blocks/ko-$g" >"$T/ko-$g.list"
	_why=""
	if ! cmp -s "$T/$g.list" "$T/ko-$g.list"; then
		_why="runnable blocks (step, number): en $(tr '\n' ' ' <"$T/$g.list"), ko $(tr '\n' ' ' <"$T/ko-$g.list")"
	else
		while read -r step n; do
			code_of "$T/blocks/$g/$n" >"$T/en.code"
			code_of "$T/blocks/ko-$g/$n" >"$T/ko.code"
			cmp -s "$T/en.code" "$T/ko.code" || _why="${_why}block $n (step $step) differs; "
		done <"$T/$g.list"
	fi
	if [ -z "$_why" ]; then
		ok "$G/ko/$g.md has the same runnable blocks as $G/$g.md"
	else
		not_ok "$G/ko/$g.md has the same runnable blocks as $G/$g.md"
		diag "$_why"
	fi
done

# --- run the English blocks in step order, in one shell ---------------------------------
PORT=$(free_port)
WORK=$T/work
SCRIPT=$T/guides-run.sh
MARKS=$T/marks
LOG=${GUIDES_LOG:-$T/guides.log}
: >"$MARKS"
sort -n -k1,1 -k2,2 -k3,3 "$T/index" >"$T/order"
{
	echo "PATH='$BIN':\$PATH"
	echo "export PATH"
	echo "export WORK='$WORK' PORT='$PORT'"
	while read -r step rank n g; do
		echo "echo '### $g.md block $n (step $step)'"
		cat "$T/blocks/$g/$n"
		echo "echo '$g $n' >>'$MARKS'"
	done <"$T/order"
} >"$SCRIPT"

stop_guides_server() {
	[ -f "$WORK/sealdropd.pid" ] || return 0
	_pid=$(cat "$WORK/sealdropd.pid")
	case $_pid in '' | *[!0-9]*) return 0 ;; esac
	kill -TERM "$_pid" 2>/dev/null || return 0
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null
	return 0
}

RC=0
(cd "$T" && $_timeout sh -e "$SCRIPT" </dev/null >"$LOG" 2>&1) || RC=$?
# The operator's last step stops the server (SIGTERM): it must be gone within 10 s.
stopped=no
if [ -f "$WORK/sealdropd.pid" ]; then
	_i=0
	while [ $_i -lt 100 ]; do
		kill -0 "$(cat "$WORK/sealdropd.pid")" 2>/dev/null || { stopped=yes; break; }
		sleep 0.1
		_i=$((_i + 1))
	done
fi
stop_guides_server

failed=""
while read -r step rank n g; do
	if grep -qx "$g $n" "$MARKS"; then
		ok "$g.md block $n (step $step) runs"
	elif [ -z "$failed" ]; then
		failed="$g $n"
		not_ok "$g.md block $n (step $step) runs"
		diag "the guides' shell stopped with status $RC in this block; its last output:"
		awk -v m="### $g.md block $n (step $step)" 'index($0, m) == 1 { p = 1 } p' "$LOG" | tail -n 15 | sed 's/^/#   /'
	else
		not_ok "$g.md block $n (step $step) runs # not reached: block $failed failed"
	fi
done <"$T/order"
if [ "$RC" -eq 0 ]; then ok "the guides' shell exits 0"; else not_ok "the guides' shell exits 0 (status $RC)"; fi

if [ "$stopped" = yes ]; then ok "the guides stop the server they started"; else not_ok "the guides stop the server they started"; fi
done_testing
