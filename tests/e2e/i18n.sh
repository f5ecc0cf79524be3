# i18n.sh — messages in Korean and English (gettext, following LANG). Korean asked for by
# LANG, LC_ALL or LC_MESSAGES gives Korean help, errors and summaries even where the
# ko_KR.UTF-8 locale was never generated (client/i18n.c falls back to C.UTF-8); C, POSIX,
# en_* and no setting at all give English. Exit codes and --json output never change with
# the language. The catalogue is found from the build tree and after `make install`, and
# po/ko.po translates every message the client has (po/sealdropd/ko.po the server's:
# i18n_sealdropd.sh tests sealdropd in Korean).
. "$(dirname "$0")/lib.sh"

BUILD=${BUILD:-build} # as make knows it: make po-check, make install below

# Whether FILE has a line matching the fixed string at its start.
starts_line() { # file text
	grep -q "^$2" "$1"
}

is_utf8() { # file
	"$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$1" 2>/dev/null
}

KO="LANG=ko_KR.UTF-8"

# --- the catalogue -------------------------------------------------------------------
check "the Korean catalogue is built ($BUILD_DIR/locale/ko/LC_MESSAGES/sealdrop.mo)" \
	test -s "$BUILD_DIR/locale/ko/LC_MESSAGES/sealdrop.mo"

# Both catalogues (the client's po/ko.po, the server's po/sealdropd/ko.po) against the
# messages the sources have now: `make po-check` extracts them with the same xgettext
# options `make po` uses, into a scratch directory.
if command -v msgfmt >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 && command -v make >/dev/null 2>&1; then
	run env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory BUILD="$BUILD" po-check POT_DIR="$T/pot"
	if [ "$RC" -eq 0 ] && grep -q '^po/ko.po: [0-9]* translated messages.$' "$OUT" &&
		grep -q '^po/sealdropd/ko.po: [0-9]* translated messages.$' "$OUT"; then
		ok "po/ko.po and po/sealdropd/ko.po translate every message the sources have, none fuzzy ($(tr '\n' ' ' <"$OUT"))"
	else
		not_ok "po/ko.po and po/sealdropd/ko.po translate every message the sources have, none fuzzy (else: make po)"
		_diag_output
	fi
else
	skip "msgfmt/xgettext/make not installed (scripts/deps.sh installs gettext)"
fi

# --- Korean ------------------------------------------------------------------------------
expect_exit 0 "LANG=ko_KR.UTF-8 sealdrop --help" in_locale $KO -- sd --help
keep_output
check "--help in Korean: usage line" starts_line "$KEPT_OUT" "사용법: sealdrop \[--help\]"
check "--help in Korean: the seal summary" grep -qF "신고서, 인적사항, 증거 자료를 패키지로 봉인하고 코드네임을 발급합니다" "$KEPT_OUT"
check "--help in Korean: exit statuses" grep -qF "종료 상태: 0 성공, 64 사용법 오류" "$KEPT_OUT"
if grep -qE "^usage:|^commands:|Every command" "$KEPT_OUT"; then
	not_ok "--help in Korean has no English left"
	diag "$(grep -E "^usage:|^commands:|Every command" "$KEPT_OUT")"
else
	ok "--help in Korean has no English left"
fi
check "--help in Korean is valid UTF-8" is_utf8 "$KEPT_OUT"

expect_exit 0 "LANG=ko_KR.UTF-8 sealdrop seal --help" in_locale $KO -- sd seal --help
keep_output
check "seal --help in Korean: usage line" starts_line "$KEPT_OUT" "사용법: sealdrop seal --directory D"
check "seal --help in Korean: the resident registration number check" \
	grep -qF "주민등록번호를 검사합니다" "$KEPT_OUT"
check "seal --help in Korean: the Decree's article" \
	grep -qF "공익신고자 보호법 시행령 제7조제1항제2호~제7호" "$KEPT_OUT"
check "seal --help in Korean: the codename-out risk" grep -qF "압수된 기기의 파일은 증거가" "$KEPT_OUT"

for c in keygen directory "directory create" "directory verify" inspect open; do
	case $c in
	directory) phrase="루트 키로 새 키 디렉터리에 서명합니다" ;;
	*) phrase="이 도움말을 표시합니다" ;;
	esac
	# shellcheck disable=SC2086
	run in_locale $KO -- sd $c --help
	if [ "$RC" -eq 0 ] && starts_line "$OUT" "사용법: sealdrop $c" && grep -qF "$phrase" "$OUT"; then
		ok "$c --help in Korean"
	else
		not_ok "$c --help in Korean"
		diag "exit status $RC"
		_diag_output out
	fi
done

expect_exit 64 "Korean usage error: seal without options exits 64" \
	-m "sealdrop: seal: --directory 옵션을 지정해야 합니다" in_locale $KO -- sd seal
keep_output
check "... and shows the Korean synopsis" starts_line "$KEPT_ERR" "사용법: sealdrop seal --directory D"
check "... and the Korean hint" grep -qF "자세한 내용은 'sealdrop seal --help'를 실행하십시오." "$KEPT_ERR"
expect_exit 64 "Korean usage error: unknown global option exits 64" \
	-m "sealdrop: 알 수 없는 옵션입니다: '--frobnicate'" in_locale $KO -- sd --frobnicate
expect_exit 64 "Korean usage error: unknown command exits 64" \
	-m "알 수 없는 명령입니다: 'frobnicate'" in_locale $KO -- sd frobnicate
expect_exit 64 "Korean usage error: an option without its value exits 64" \
	-m "'--out' 옵션에는 값이 필요합니다" in_locale $KO -- sd keygen --kind intake --out
expect_exit 64 "LC_ALL=ko_KR.UTF-8 gives Korean too" \
	-m "--directory 옵션을 지정해야 합니다" in_locale LC_ALL=ko_KR.UTF-8 -- sd seal
expect_exit 64 "LC_MESSAGES=ko_KR.UTF-8 gives Korean too" \
	-m "--directory 옵션을 지정해야 합니다" in_locale LC_MESSAGES=ko_KR.UTF-8 -- sd seal
expect_exit 64 "LANG=ko (no territory) gives Korean too" \
	-m "--directory 옵션을 지정해야 합니다" in_locale LANG=ko -- sd seal
expect_exit 64 "LANG=C.UTF-8 LANGUAGE=ko gives Korean (gettext's LANGUAGE)" \
	-m "--directory 옵션을 지정해야 합니다" in_locale LANG=C.UTF-8 LANGUAGE=ko -- sd seal

# Errors past the option parser, and the positional format that drops English articles.
D="$T/demo"
mkdeployment "$D" demo || done_testing
expect_exit 73 "English: an existing key file is refused (73)" -m "already exists" \
	sd keygen --kind intake --out "$D/intake.key" --passphrase-file "$PW" --kdf interactive
expect_exit 73 "Korean: the same, with the same exit status" \
	-m "이미 있으므로 아무것도 덮어쓰지 않았습니다" \
	in_locale $KO -- sd keygen --kind intake --out "$D/intake.key" --passphrase-file "$PW" --kdf interactive
expect_exit 65 "English: a root key of the wrong kind (65)" -m "is an intake key, not a root key" \
	sd directory verify "$D/directory.json" --root "$D/intake.key.pub"
expect_exit 65 "Korean: the same, with the same exit status" \
	-m "intake.key.pub 파일은 root 키가 아니라 intake 키입니다" \
	in_locale $KO -- sd directory verify "$D/directory.json" --root "$D/intake.key.pub"
keep_output
check "... and the message is valid UTF-8" is_utf8 "$KEPT_ERR"
# A detail the library writes (crypto/envelope.c), translated through the client's catalogue.
expect_exit 65 "English: a file that is not a package (65)" -m "not a sealdrop package (bad magic)" \
	sd open "$D/directory.json" --intake "$D/intake.key" --out "$T/opened"
expect_exit 65 "Korean: the library's detail in Korean, same exit status" \
	-m "sealdrop 패키지가 아닙니다(매직 값이 잘못됨)" \
	in_locale $KO -- sd open "$D/directory.json" --intake "$D/intake.key" --out "$T/opened"

expect_exit 0 "Korean: directory verify prints a Korean listing" \
	in_locale $KO -- sd directory verify "$D/directory.json" --root "$D/root.key.pub"
keep_output
# shellcheck disable=SC2016 # $1 is the inner shell's
check "... with its Korean heading and labels" \
	sh -c 'grep -qF "directory.json: 서명을 검증했습니다" "$1" && grep -q "^  유효 기한     " "$1"' sh "$KEPT_OUT"

# --- --json never changes with the language ------------------------------------------------
seal_example "$D" "$T/pkg.sdx"
[ "$RC" -eq 0 ] || { not_ok "set-up: seal a package"; _diag_output; }
for args in "directory verify $D/directory.json --root $D/root.key.pub --json" "inspect $T/pkg.sdx --json"; do
	# shellcheck disable=SC2086
	run in_locale LANG=C -- sd $args
	en_rc=$RC
	cp "$OUT" "$T/en.json"
	# shellcheck disable=SC2086
	run in_locale $KO -- sd $args
	if [ "$en_rc" -eq 0 ] && [ "$RC" -eq 0 ] && json_is_valid "$OUT" && cmp -s "$T/en.json" "$OUT"; then
		ok "Korean --json output is valid and identical to English: ${args%% /*}"
	else
		not_ok "Korean --json output is valid and identical to English: ${args%% /*}"
		diag "exit status $RC"
		_diag_output out
	fi
done
expect_exit 0 "Korean keygen --json" \
	in_locale $KO -- sd keygen --kind agency --out "$T/ag.key" --passphrase-file "$PW" --kdf interactive --json
if json_is_valid "$OUT" && [ "$(json_get "$OUT" 'sorted(d)')" = '["kdf", "key_id", "kind", "public_key", "secret_key"]' ] &&
	[ "$(json_get "$OUT" 'd["kind"]')" = agency ] && [ "$(json_get "$OUT" 'd["kdf"]')" = interactive ]; then
	ok "... is parseable JSON with English keys and values"
else
	not_ok "... is parseable JSON with English keys and values"
	_diag_output out
fi

# --- English stays the default ---------------------------------------------------------------
for env in "LANG=C" "LANG=POSIX" "" "LANG=en_US.UTF-8" "LANG=C.UTF-8" "LANG=C LANGUAGE=ko" \
	"LANG=ko_KR.UTF-8 LC_ALL=C" "LANG=ko_KR.UTF-8 LC_MESSAGES=C" "LANG=ko_KR.UTF-8 LANGUAGE=en"; do
	# shellcheck disable=SC2086
	run in_locale $env -- sd --help
	if [ "$RC" -eq 0 ] && starts_line "$OUT" "usage: sealdrop \[--help\]" && grep -q "Every command takes --help" "$OUT"; then
		ok "English --help with ${env:-no locale variables}"
	else
		not_ok "English --help with ${env:-no locale variables}"
		_diag_output out
	fi
done
run in_locale LANG=C -- sd seal --help
keep_output
check "English seal --help with LANG=C" starts_line "$KEPT_OUT" "usage: sealdrop seal --directory D"
expect_exit 64 "English usage error with LANG=C, exit 64" \
	-m "sealdrop: seal: missing --directory" in_locale LANG=C -- sd seal
expect_exit 64 "English usage error with LANG=en_US.UTF-8, exit 64" \
	-m "sealdrop: seal: missing --directory" in_locale LANG=en_US.UTF-8 -- sd seal

# --- where the catalogue is found --------------------------------------------------------------
mkdir -p "$T/empty-locale"
expect_exit 64 "SEALDROP_LOCALEDIR without a catalogue: English, exit 64" \
	-m "missing --directory" in_locale $KO SEALDROP_LOCALEDIR="$T/empty-locale" -- sd seal

# `make install` into a staging directory (skipped if it would have to build anything: the
# build under test is not changed by its own tests).
inst="$T/inst"
mk() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory BUILD="$BUILD" DESTDIR="$inst" "$@"
}
if ! command -v make >/dev/null 2>&1; then
	skip "make install: make is not installed"
elif mk -n install 2>/dev/null | grep -qE '^(cc|gcc|clang|ar|msgfmt) '; then
	skip "make install: the build tree is not up to date"
else
	run mk install
	mo="$inst/usr/local/share/locale/ko/LC_MESSAGES/sealdrop.mo"
	if [ "$RC" -eq 0 ] && [ -s "$mo" ] && [ -s "${mo%/*}/sealdropd.mo" ] && [ -x "$inst/usr/local/bin/sealdrop" ]; then
		ok "make install DESTDIR installs the binary and share/locale/ko/LC_MESSAGES/sealdrop.mo, sealdropd.mo"
		run env -u LC_ALL -u LANGUAGE LANG=ko_KR.UTF-8 SEALDROP_LOCALEDIR="$inst/usr/local/share/locale" \
			"$inst/usr/local/bin/sealdrop" seal --help
		keep_output
		check "the installed binary with the installed catalogue speaks Korean" \
			starts_line "$KEPT_OUT" "사용법: sealdrop seal --directory D"
		run env -u LC_ALL -u LANGUAGE LANG=ko_KR.UTF-8 SEALDROP_LOCALEDIR="$T/empty-locale" \
			"$inst/usr/local/bin/sealdrop" seal --help
		keep_output
		check "the installed binary does not read the build tree's catalogue" \
			starts_line "$KEPT_OUT" "usage: sealdrop seal --directory D"
	else
		not_ok "make install DESTDIR installs the binary and share/locale/ko/LC_MESSAGES/sealdrop.mo, sealdropd.mo"
		_diag_output out
	fi
fi

done_testing
