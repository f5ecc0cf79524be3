#!/bin/sh
# deb-test.sh — issue 8's packaging acceptance (make deb-test): builds the Debian packages
# from a temporary copy of this tree with `dpkg-buildpackage -us -uc -b`, checks them with
# lintian, installs them with apt, and then checks what a Commission's IT staff would:
#
#   - sealdrop in /usr/bin, sealdropd in /usr/sbin, the unit in /lib/systemd/system
#     (systemd-analyze verify, enabled by the package, its exposure score);
#   - every man page found by man(1), in English and (LANG=ko) Korean, and rendering;
#   - the bash and zsh completions loading for the installed commands;
#   - `LANG=ko_KR.UTF-8 sealdrop --help` and `sealdropd --help` in Korean, each from its
#     package's catalogue;
#   - the whole demo flow (scripts/demo.sh) with the installed binaries;
#   - the installed server running with no more than the unit's CapabilityBoundingSet and
#     NoNewPrivileges (setpriv), and, when strace is installed, making no system call
#     outside the unit's SystemCallFilter while it serves filings, status and enrolment;
#
# then purges both packages (the state directory it made, the system user is kept, as
# Debian's packages do). TAP lines, a "# figures:" line, exit 1 on any failure.
#
# Not part of `make test`: it installs and removes system packages, and needs root and
# apt. It refuses to run when sealdrop or sealdropd is installed already (it would purge
# them). DEB_TEST_KEEP=1 keeps the temporary directory.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { for _l; do printf '%s\n' "$_l" | sed 's/^/# /'; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # description command...
	_d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$_d"; else
		not_ok "$_d"
		diag "$(tail -n 15 "$T/out")"
	fi
}
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - deb-test runs as root (it installs and purges packages)"
	echo "1..1"
	exit 1
fi
for p in sealdrop sealdropd; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		echo "not ok 1 - $p is not installed already (deb-test would purge it): apt purge $p first"
		echo "1..1"
		exit 1
	fi
done

T=$(mktemp -d /tmp/sealdrop-deb-test.XXXXXXXX) || exit 1
chmod 755 "$T"
server_pid=""
installed=0
cleanup() {
	[ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
	if [ "$installed" = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sealdrop sealdropd >/dev/null 2>&1
	fi
	if [ "${DEB_TEST_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build -----------------------------------------------------------------------------

# The working tree as it is (tracked and new files, not what .gitignore ignores), so
# uncommitted packaging changes are what is tested.
src=$T/src/sealdrop
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf -) |
		tar -xf - -C "$src" 2>/dev/null
else
	(cd "$top" && tar --exclude=./build --exclude='./build-*' --exclude=./var --exclude=./sealdrop \
		--exclude=./sealdropd -cf - .) | tar -xf - -C "$src"
fi
if [ ! -f "$src/debian/control" ]; then
	not_ok "the tree has debian/ (copied to $src)"
	finish
fi
version=$(sed -n 's/.*SD_VERSION_STRING "\(.*\)".*/\1/p' "$src/include/sealdrop/sealdrop.h")
chver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null)
if [ "$chver" = "$version" ]; then
	ok "debian/changelog's version is SD_VERSION_STRING ($version)"
else
	not_ok "debian/changelog's version ($chver) is SD_VERSION_STRING ($version)"
fi

if ! (cd "$src" && dpkg-checkbuilddeps) >"$T/bdeps" 2>&1; then
	not_ok "the build dependencies are installed (scripts/deps.sh --deb)"
	diag "$(cat "$T/bdeps")"
	finish
fi
t0=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	not_ok "dpkg-buildpackage -us -uc -b"
	diag "$(tail -n 30 "$T/build.log")"
	finish
fi
build_s=$(($(date +%s) - t0))
arch=$(dpkg --print-architecture)
deb_c=$T/src/sealdrop_${version}_$arch.deb
deb_d=$T/src/sealdropd_${version}_$arch.deb
check "it made sealdrop_${version}_$arch.deb and sealdropd_${version}_$arch.deb" test -f "$deb_c" -a -f "$deb_d"
units=$(grep -c '^unit test' "$T/build.log")
passed=$(grep -c '^ok ' "$T/build.log")
if [ "$units" -gt 0 ] && ! grep -q '^not ok ' "$T/build.log"; then
	ok "the build's unit tests pass ($units binaries, $passed checks)"
else
	not_ok "the build's unit tests pass ($units binaries, $passed checks)"
fi

if command -v lintian >/dev/null 2>&1; then
	lintian --pedantic -I "$T/src/sealdrop_${version}_$arch.changes" >"$T/lintian" 2>&1
	if grep -q '^E: ' "$T/lintian"; then
		not_ok "lintian reports no errors"
		diag "$(grep '^E: ' "$T/lintian")"
	else
		ok "lintian reports no errors"
		grep -qE '^[WIP]: ' "$T/lintian" && diag "lintian: $(grep -cE '^[WIP]: ' "$T/lintian") other tags:" \
			"$(grep -E '^[WIP]: ' "$T/lintian")"
	fi
else
	skip "lintian reports no errors" "lintian is not installed (scripts/deps.sh --deb)"
fi

# --- install ---------------------------------------------------------------------------

had_state=0
[ -e /var/lib/sealdrop ] && had_state=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb_c" "$deb_d" >"$T/apt" 2>&1; then
	installed=1
	ok "apt-get install ./sealdrop_*.deb ./sealdropd_*.deb"
else
	installed=1
	not_ok "apt-get install ./sealdrop_*.deb ./sealdropd_*.deb"
	diag "$(tail -n 20 "$T/apt")"
	finish
fi

check "sealdrop is /usr/bin/sealdrop" test -x /usr/bin/sealdrop
check "sealdropd is /usr/sbin/sealdropd" test -x /usr/sbin/sealdropd
check "sealdrop --version says $version" sh -c "/usr/bin/sealdrop --version | grep -qF '$version'"
check "sealdropd --version says $version" sh -c "/usr/sbin/sealdropd --version | grep -qF '$version'"
check "the postinst made the system user sealdrop" getent passwd sealdrop
if [ "$had_state" = 0 ]; then
	check "the postinst made /var/lib/sealdrop, 0700, owned by sealdrop" \
		sh -c '[ "$(stat -c %a:%U /var/lib/sealdrop)" = 700:sealdrop ]'
else
	skip "the postinst made /var/lib/sealdrop" "it existed before the test"
fi

unit=/lib/systemd/system/sealdropd.service
check "the unit is $unit" test -f "$unit"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze verify accepts the installed unit" systemd-analyze verify "$unit"
	score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && [ "$(echo "$score <= 3.0" | bc)" = 1 ]; then
		ok "systemd-analyze security: exposure $score (at most 3.0)"
	else
		not_ok "systemd-analyze security: exposure ${score:-unknown} (at most 3.0)"
	fi
else
	skip "systemd-analyze verify accepts the unit" "systemd-analyze is not installed"
	score=""
fi
check "the package enabled the unit (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/sealdropd.service

# --- man pages, completions, Korean ----------------------------------------------------

for page in 1:sealdrop 8:sealdropd 5:sealdropd.conf 5:sealdrop-format; do
	sec=${page%%:*} name=${page#*:}
	f=$(man -w "$sec" "$name" 2>/dev/null)
	if [ "$f" = "/usr/share/man/man$sec/$name.$sec.gz" ]; then ok "man -w $sec $name: $f"; else
		not_ok "man -w $sec $name is /usr/share/man/man$sec/$name.$sec.gz (got '$f')"
	fi
	fk=$(man -L ko -w "$sec" "$name" 2>/dev/null)
	if [ "$fk" = "/usr/share/man/ko/man$sec/$name.$sec.gz" ]; then ok "man -L ko -w $sec $name: $fk"; else
		not_ok "man -L ko -w $sec $name is /usr/share/man/ko/man$sec/$name.$sec.gz (got '$fk')"
	fi
	for p in "$f" "$fk"; do
		[ -f "$p" ] || continue
		# man-db and groff, as a user reads it; groff's "can't break line" warnings (a
		# synopsis line wider than 80 columns) are reported, not failed.
		if MANWIDTH=80 MANPAGER=cat LC_ALL=C.UTF-8 man -l "$p" >"$T/man" 2>"$T/man.err" &&
			[ "$(wc -l <"$T/man")" -gt 20 ] && ! grep -v "can't break line" "$T/man.err" | grep -q .; then
			ok "$p renders (man -l, $(wc -l <"$T/man") lines)"
			[ -s "$T/man.err" ] && diag "groff: $(wc -l <"$T/man.err") warnings: $(head -n 1 "$T/man.err")"
		else
			not_ok "$p renders (man -l)"
			diag "$(head -n 5 "$T/man.err")"
		fi
		if command -v mandoc >/dev/null 2>&1; then
			check "$p: mandoc -T lint -W warning is clean" mandoc -K utf-8 -T lint -W warning "$p"
		fi
	done
done

for c in sealdrop sealdropd; do
	check "bash: /usr/share/bash-completion/completions/$c loads (complete -p $c)" \
		bash -c ". /usr/share/bash-completion/completions/$c && complete -p $c"
done
if command -v zsh >/dev/null 2>&1; then
	check "zsh: compinit finds _sealdrop and _sealdropd in /usr/share/zsh/vendor-completions" \
		zsh -f -c 'autoload -Uz compinit; compinit -u -d "$1/zcompdump"
			[[ $_comps[sealdrop] == _sealdrop && $_comps[sealdropd] == _sealdropd ]]' x "$T"
else
	skip "zsh: compinit finds the completions" "zsh is not installed"
fi

# Each package's catalogue, and its program's --help in Korean from it.
korean_help() { # package binary
	mo=/usr/share/locale/ko/LC_MESSAGES/$1.mo
	check "the Korean catalogue $mo is the $1 package's" sh -c "dpkg -S '$mo' | grep -q '^$1:'"
	env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=ko_KR.UTF-8 "$2" --help >"$T/ko" 2>&1
	if grep -q "^사용법: $1" "$T/ko" && ! grep -q '^usage:' "$T/ko"; then
		ok "LANG=ko_KR.UTF-8 $1 --help prints Korean"
	else
		not_ok "LANG=ko_KR.UTF-8 $1 --help prints Korean"
		diag "$(head -n 3 "$T/ko")"
	fi
}
korean_help sealdrop /usr/bin/sealdrop
korean_help sealdropd /usr/sbin/sealdropd

# --- the demo flow with the installed binaries -----------------------------------------

# scripts/demo.sh runs ./sealdrop and ./sealdropd from the directory above its own: a
# directory where those are links to the installed binaries, with the example files the
# demo seals.
d=$T/demo
mkdir -p "$d/scripts" "$d/docs"
cp "$src/scripts/demo.sh" "$d/scripts/"
cp -r "$src/docs/examples" "$d/docs/"
cp "$src/README.md" "$d/"
ln -s /usr/bin/sealdrop "$d/sealdrop"
ln -s /usr/sbin/sealdropd "$d/sealdropd"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DEMO_PORT=$port sh "$d/scripts/demo.sh" </dev/null >"$T/demo.log" 2>&1 &
demo_pid=$!
i=0
while [ $i -lt 600 ] && kill -0 "$demo_pid" 2>/dev/null && ! grep -q '^== The demo is running' "$T/demo.log"; do
	sleep 0.5
	i=$((i + 1))
done
steps=$(grep -c '^== [0-9]' "$T/demo.log")
if grep -q '^== The demo is running' "$T/demo.log"; then
	ok "the demo flow runs with the installed binaries ($steps steps)"
else
	not_ok "the demo flow runs with the installed binaries (stopped after $steps steps)"
	diag "$(tail -n 15 "$T/demo.log")"
fi
kill -TERM "$demo_pid" 2>/dev/null
wait "$demo_pid" 2>/dev/null
S=$d/var/demo/server
V=$d/var/demo

# --- the installed server within the unit's bounds -------------------------------------

# CapabilityBoundingSet=CAP_A CAP_B ... as setpriv wants it: +a,+b,...
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
wrap=""
command -v strace >/dev/null 2>&1 && wrap="strace -f -qq -o $T/strace"
if [ -f "$S/sealdropd.conf" ] && [ -n "$caps" ]; then
	# shellcheck disable=SC2086 # $wrap is a command or nothing
	setpriv --bounding-set "-all,$caps" --inh-caps -all --no-new-privs -- $wrap \
		/usr/sbin/sealdropd run --config "$S/sealdropd.conf" >"$T/server.log" 2>&1 &
	server_pid=$!
	url=https://127.0.0.1:$port
	i=0
	until curl -s -o /dev/null --max-time 2 --cacert "$S/ca.pem" "$url/v1/health"; do
		kill -0 "$server_pid" 2>/dev/null && [ $i -lt 100 ] || break
		sleep 0.2
		i=$((i + 1))
	done
	if curl -s -o /dev/null --max-time 2 --cacert "$S/ca.pem" "$url/v1/health"; then
		ok "the installed server starts with only the unit's capabilities ($caps) and no new privileges"
		export XDG_STATE_HOME="$V/state"
		r="--root $V/keys/root.key.pub"
		check "  it enrols an account over its control socket" \
			/usr/sbin/sealdropd enroll --dir "$S" --role attorney --name "Attorney Deb $$" --out "$T/att2"
		check "  it takes a second filing" sh -c "cd '$d' && /usr/bin/sealdrop seal --directory '$S/directory.json' $r \
			--report docs/examples/report.json --identity docs/examples/identity.json --out '$T/p2.sdx' \
			--codename-out '$T/p2.code' --quiet && /usr/bin/sealdrop file '$T/p2.sdx' --server $url \
			--ca '$S/ca.pem' --cert '$T/att2/cert.pem' --key '$T/att2/key.pem' $r"
		check "  it answers the whistleblower's status" /usr/bin/sealdrop status --server "$url" --ca "$S/ca.pem" \
			--directory "$S/directory.json" $r --codename-file "$T/p2.code"
		check "  it publishes a log head" /usr/sbin/sealdropd audit publish --config "$S/sealdropd.conf"
	else
		not_ok "the installed server starts with only the unit's capabilities ($caps) and no new privileges"
		diag "$(tail -n 5 "$T/server.log")"
	fi
	spid=$server_pid
	[ -n "$wrap" ] && spid=$(pgrep -P "$server_pid" -x sealdropd)
	[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
	rc=0
	wait "$server_pid" 2>/dev/null || rc=$?
	server_pid=""
	if [ "$rc" -eq 0 ]; then ok "  SIGTERM stops it with status 0"; else not_ok "  SIGTERM stops it with status 0 (got $rc)"; fi
	if [ -n "$wrap" ] && [ -s "$T/strace" ] && command -v systemd-analyze >/dev/null 2>&1; then
		# Every call the server, sealdropd-keys and sealdropd-store made, against the
		# unit's SystemCallFilter expanded by systemd's own tables.
		sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$T/strace" | sort -u >"$T/used"
		systemd-analyze syscall-filter >"$T/groups" 2>/dev/null
		outside=$(python3 - "$T/groups" "$T/used" $filter <<'EOF'
import sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    if line.startswith("@"):
        cur = line.split()[0]
        groups[cur] = []
    elif cur and line.strip() and not line.strip().startswith("#"):
        groups[cur].append(line.split()[0])
def expand(name):
    if not name.startswith("@"):
        return {name}
    out = set()
    for x in groups.get(name, []):
        out |= expand(x)
    return out
allowed = set()
for item in sys.argv[3:]:
    allowed |= expand(item)
print(" ".join(u.strip() for u in open(sys.argv[2]) if u.strip() not in allowed))
EOF
		)
		if [ -z "$outside" ]; then
			ok "  every system call it made ($(wc -l <"$T/used")) is in the unit's SystemCallFilter ($filter)"
		else
			not_ok "  every system call it made is in the unit's SystemCallFilter ($filter): not $outside"
		fi
	else
		skip "  every system call it made is in the unit's SystemCallFilter" "strace or systemd-analyze is not installed"
	fi
else
	not_ok "the demo left a server to run within the unit's bounds"
fi

# --- purge -----------------------------------------------------------------------------

if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sealdrop sealdropd >"$T/purge" 2>&1; then
	installed=0
	ok "apt-get purge sealdrop sealdropd"
else
	not_ok "apt-get purge sealdrop sealdropd"
	diag "$(tail -n 10 "$T/purge")"
fi
check "the purge removed the binaries and the unit" \
	sh -c '! [ -e /usr/bin/sealdrop ] && ! [ -e /usr/sbin/sealdropd ] && ! [ -e /lib/systemd/system/sealdropd.service ]'
check "the purge removed the unit's enablement" test ! -e /etc/systemd/system/multi-user.target.wants/sealdropd.service
if [ "$had_state" = 0 ]; then
	check "the purge removed the empty /var/lib/sealdrop" test ! -e /var/lib/sealdrop
fi

diag "figures: build ${build_s}s; $(du -k "$deb_c" | cut -f1) KiB sealdrop.deb, $(du -k "$deb_d" | cut -f1) KiB sealdropd.deb;" \
	"systemd-analyze security exposure ${score:-n/a}; lintian $(grep -cE '^[EWIP]: ' "$T/lintian" 2>/dev/null || echo n/a) tags; demo $steps steps"
finish
