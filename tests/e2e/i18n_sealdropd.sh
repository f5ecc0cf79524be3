# i18n_sealdropd.sh — the server's commands in Korean and English (gettext, domain
# "sealdropd", po/sealdropd/ko.po). An operator who asks for Korean (LANG, LC_ALL or
# LC_MESSAGES; ko_KR.UTF-8 need not be generated) gets Korean help, usage errors and
# error details, also the refusals the running server sends back through the control
# socket; C, POSIX, en_* and no setting give English. Exit codes and --json output never
# change with the language, and `sealdropd run` itself stays English: its log and its
# answers are written the same whatever the operator's shell asks for.
. "$(dirname "$0")/lib.sh"

has_hangul() { # file
	"$PY" -c 'import re, sys; sys.exit(0 if re.search("[\uac00-\ud7a3]", open(sys.argv[1], encoding="utf-8").read()) else 1)' \
		"$1" 2>/dev/null
}

KO="LANG=ko_KR.UTF-8"

check "the server's Korean catalogue is built ($BUILD_DIR/locale/ko/LC_MESSAGES/sealdropd.mo)" \
	test -s "$BUILD_DIR/locale/ko/LC_MESSAGES/sealdropd.mo"

# --- help ------------------------------------------------------------------------------
expect_exit 0 "LANG=ko_KR.UTF-8 sealdropd --help" in_locale $KO -- sdd --help
keep_output
check "--help in Korean: the usage line" grep -q "^사용법: sealdropd \[--help\]" "$KEPT_OUT"
check "--help in Korean: the restore summary" grep -q "^  restore  *백업을 복원하고" "$KEPT_OUT"
if grep -qE "^usage:|^commands:|Every command|server running" "$KEPT_OUT"; then
	not_ok "--help in Korean has no English left"
	diag "$(grep -E "^usage:|^commands:|Every command|server running" "$KEPT_OUT")"
else
	ok "--help in Korean has no English left"
fi

# Every command's --help (and each subcommand's) in Korean, against its English.
for c in init run check-config enroll disable renew revoke "directory install" "audit check" "audit publish" \
	scrub backup restore "log-key new" "log-key rotate" retention; do
	# shellcheck disable=SC2086 # $c is a command and its subcommand
	run in_locale $KO -- sdd $c --help
	keep_output
	# shellcheck disable=SC2086
	run in_locale LANG=C -- sdd $c --help
	if [ "$RC" -eq 0 ] && grep -q "^사용법: sealdropd $c" "$KEPT_OUT" && has_hangul "$KEPT_OUT" &&
		grep -q "^usage: sealdropd $c" "$OUT" && ! has_hangul "$OUT"; then
		ok "$c --help in Korean, and in English with LANG=C"
	else
		not_ok "$c --help in Korean, and in English with LANG=C"
		diag "$(head -n 3 "$KEPT_OUT")"
		_diag_output out
	fi
done

# --- errors ------------------------------------------------------------------------------
expect_exit 64 "a usage error in Korean, exit 64" in_locale $KO -- sdd backup --out "$T/b"
keep_output
check "... names what is missing in Korean" has_hangul "$KEPT_ERR"
check "... and points to the command's Korean help" grep -qF "자세한 내용은 'sealdropd backup --help'" "$KEPT_ERR"
check "... with the Korean synopsis" grep -q "^사용법: sealdropd backup" "$KEPT_ERR"
expect_exit 64 "the same usage error in English with LANG=C, exit 64" \
	-m "Run 'sealdropd backup --help' for details." in_locale LANG=C -- sdd backup --out "$T/b"

expect_exit 64 "an unknown command in Korean, exit 64" in_locale $KO -- sdd frobnicate
keep_output
check "... says so in Korean" has_hangul "$KEPT_ERR"

# A library error detail (the configuration file is missing), translated by sd_error.
run in_locale LANG=C -- sdd check-config --config "$T/none.conf"
c_rc=$RC
keep_output
run in_locale $KO -- sdd check-config --config "$T/none.conf"
if [ "$RC" -eq "$c_rc" ] && [ "$RC" -ne 0 ] && has_hangul "$ERR" && ! has_hangul "$KEPT_ERR" &&
	grep -qF "$T/none.conf" "$ERR"; then
	ok "check-config of a missing file: Korean detail, the same exit status ($RC)"
else
	not_ok "check-config of a missing file: Korean detail, the same exit status"
	diag "C: $c_rc $(cat "$KEPT_ERR")"
	_diag_output
fi

# `run` binds no catalogue: its messages stay English (its --help alone is translated).
run in_locale LANG=C -- sdd run --config "$T/none.conf"
c_rc=$RC
keep_output
run in_locale $KO -- sdd run --config "$T/none.conf"
if [ "$RC" -eq "$c_rc" ] && [ "$RC" -ne 0 ] && ! has_hangul "$ERR" && cmp -s "$ERR" "$KEPT_ERR"; then
	ok "LANG=ko_KR.UTF-8 sealdropd run with a missing configuration: English, as with LANG=C (exit $RC)"
else
	not_ok "LANG=ko_KR.UTF-8 sealdropd run with a missing configuration: English, as with LANG=C"
	diag "C: $c_rc $(cat "$KEPT_ERR")"
	_diag_output
fi
expect_exit 0 "LANG=ko_KR.UTF-8 sealdropd run --help" in_locale $KO -- sdd run --help
keep_output
check "... is Korean" grep -q "^사용법: sealdropd run" "$KEPT_OUT"

# --- the control socket ------------------------------------------------------------------
mkdir -p "$T/nodir"
run in_locale LANG=C -- sdd disable --dir "$T/nodir" --name "Nobody"
c_rc=$RC
expect_exit 69 "disable with no server running, in Korean: exit 69 as in English ($c_rc)" \
	in_locale $KO -- sdd disable --dir "$T/nodir" --name "Nobody"
keep_output
check "... and the Korean message names the socket" grep -qF "$T/nodir/control.sock의 sealdropd에 연결할 수 없습니다" "$KEPT_ERR"

# A refusal the running server writes in English, with no values in it, reaches a Korean
# operator translated: the same catalogue holds the server's control messages. Which
# refusal comes back is the server's to decide, and none of the ones without values can
# be provoked from the command line on purpose (a backup already running, a certificate
# enrolled twice); so here a stand-in answers on DIR/control.sock as the server does.
mkdir -p "$T/ctl"
"$PY" - "$T/ctl/control.sock" >"$T/ctl.log" 2>&1 <<'PYEOF' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o600); s.listen(4)
for _ in range(2):
	c, _ = s.accept()
	c.makefile("rb").readline()
	c.sendall(json.dumps({"ok": False, "error": "refused",
		"message": "another change to an account is under way; try again in a moment"}).encode() + b"\n")
	c.close()
PYEOF
ctl_pid=$!
i=0
while [ ! -S "$T/ctl/control.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
run in_locale LANG=C -- sdd disable --dir "$T/ctl" --name "Nobody"
c_rc=$RC
keep_output
run in_locale $KO -- sdd disable --dir "$T/ctl" --name "Nobody"
wait $ctl_pid 2>/dev/null
if [ "$RC" -eq "$c_rc" ] && [ "$RC" -eq 77 ] && grep -q "another change to an account is under way" "$KEPT_ERR" &&
	has_hangul "$ERR" && ! grep -q "another change" "$ERR"; then
	ok "a refusal from the control socket, in Korean: exit 77 as in English"
else
	not_ok "a refusal from the control socket, in Korean: the same exit status"
	diag "C: $c_rc $(cat "$KEPT_ERR") $(cat "$T/ctl.log")"
	_diag_output
fi

mkserver || done_testing

# --- JSON and the server's own output never change with the language --------------------
run in_locale LANG=C -- sdd audit check --config "$D/sealdropd.conf" --json
keep_output
run in_locale $KO -- sdd audit check --config "$D/sealdropd.conf" --json
if [ "$RC" -eq 0 ] && json_is_valid "$OUT" && cmp -s "$OUT" "$KEPT_OUT"; then
	ok "audit check --json is the same in Korean and English"
else
	not_ok "audit check --json is the same in Korean and English"
	_diag_output out
fi
if has_hangul "$SERVER_LOG"; then not_ok "the server's log has no Korean"; else ok "the server's log has no Korean"; fi

# --- English stays the default -------------------------------------------------------------
for env in "LANG=C" "" "LANG=en_US.UTF-8" "LANG=C.UTF-8" "LANG=ko_KR.UTF-8 LC_ALL=C" "LANG=ko_KR.UTF-8 LANGUAGE=en"; do
	# shellcheck disable=SC2086
	run in_locale $env -- sdd --help
	if [ "$RC" -eq 0 ] && grep -q "^usage: sealdropd \[--help\]" "$OUT" && grep -q "Every command takes --help" "$OUT"; then
		ok "English --help with ${env:-no locale variables}"
	else
		not_ok "English --help with ${env:-no locale variables}"
		_diag_output out
	fi
done

# --- where the catalogue is found --------------------------------------------------------------
mkdir -p "$T/empty-locale"
run in_locale $KO SEALDROP_LOCALEDIR="$T/empty-locale" -- sdd --help
keep_output
check "SEALDROP_LOCALEDIR without a catalogue: English" grep -q "^usage: sealdropd" "$KEPT_OUT"

done_testing
