# manpages.sh — the manual pages and shell completions (issue 8, items 2, 6 and 8).
# Every page in docs/ and docs/ko/ is lint-clean under mandoc and renders; every command
# and subcommand the binaries' --help lists has its section in sealdrop(1) / sealdropd(8)
# and in their Korean translations, and every option the help lists is in the page; the
# Korean pages mention every option the English ones do. The bash completions, which read
# the binaries' --help, complete commands, subcommands, options and option values and run
# each --help only once; the zsh completions load through compinit and complete the same.
# zsh is optional (the zsh checks are skipped, as TAP SKIPs, without it); mandoc and
# bash are required.
. "$(dirname "$0")/lib.sh"

SEALDROPD=${SEALDROPD:-$TOP/sealdropd}

if ! command -v mandoc >/dev/null 2>&1; then
	not_ok "mandoc is installed (apt-get install mandoc)"
	done_testing
fi

# --- lint and render ------------------------------------------------------------------
# mandoc_k PAGE ARGS...: mandoc, told the input is UTF-8 for the Korean pages.
mandoc_k() {
	_p=$1
	shift
	case $_p in
	docs/ko/*) mandoc -K utf-8 "$@" "$_p" ;;
	*) mandoc "$@" "$_p" ;;
	esac
}

npages=0
for page in docs/*.[1-8] docs/ko/*.[1-8]; do
	[ -f "$page" ] || continue
	npages=$((npages + 1))
	mandoc_k "$page" -T lint -W warning >"$T/lint" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/lint" ]; then
		ok "$page: mandoc -T lint -W warning is clean"
	else
		not_ok "$page: mandoc -T lint -W warning is clean (exit $rc)"
		diag "$(head -n 10 "$T/lint")"
	fi
	mandoc_k "$page" -T utf8 >"$T/render" 2>"$T/render.err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/render.err" ] && [ "$(wc -l <"$T/render")" -gt 20 ]; then
		ok "$page: renders with mandoc -T utf8"
	else
		not_ok "$page: renders with mandoc -T utf8 (exit $rc)"
		diag "$(head -n 5 "$T/render.err")"
	fi
done
for page in sealdrop.1 sealdropd.8 sealdropd.conf.5 sealdrop-format.5; do
	if [ -f "docs/$page" ] && [ -f "docs/ko/$page" ]; then
		ok "$page exists in English and Korean"
	else
		not_ok "$page exists in English and Korean"
	fi
done
if mandoc -K utf-8 -T utf8 docs/ko/sealdrop.1 2>/dev/null | grep -q '공익신고자'; then
	ok "docs/ko/sealdrop.1 renders Korean text"
else
	not_ok "docs/ko/sealdrop.1 renders Korean text"
fi
if command -v man >/dev/null 2>&1; then
	if man -l docs/sealdrop-format.5 2>"$T/man.err" | grep -q 'SEALED PACKAGE' && [ ! -s "$T/man.err" ]; then
		ok "man -l renders sealdrop-format(5)"
	else
		not_ok "man -l renders sealdrop-format(5)"
		diag "$(head -n 5 "$T/man.err")"
	fi
fi

# --- every command, subcommand and option of --help is in the pages -----------------------
# help_commands BIN: the commands BIN --help lists.
help_commands() {
	LC_ALL=C "$1" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'
}
# help_subcommands BIN CMD: the subcommands named in the usage lines of BIN CMD --help.
help_subcommands() {
	LC_ALL=C "$1" "$2" --help 2>/dev/null | awk -v cmd="$2" '
		/^$/ { exit }
		{ for (i = 1; i < NF; i++) if ($i == cmd && $(i + 1) ~ /^[a-z][a-z0-9|-]*$/) {
			n = split($(i + 1), s, "|"); for (j = 1; j <= n; j++) print s[j] } }' | sort -u
}
# help_options BIN WORDS...: the options the usage lines and the option list name.
help_options() {
	LC_ALL=C "$@" --help 2>/dev/null |
		awk 'NR == 1 || u { u = ($0 != ""); print; next } /^ ? ? ? ?-/ { sub(/^ +/, ""); sub(/  .*/, ""); print }' |
		grep -o -- '--[a-z][a-z0-9-]*' | sed 's/^--//'
}
# page_options PAGE: the option names the page marks up with Fl.
page_options() {
	grep -o 'Fl -\{0,1\}[a-z][a-z0-9-]*' "$1" | sed 's/^Fl -\{0,1\}//' | sort -u
}

# check_sections BIN PAGE...: every command (and subcommand) has a .Ss in each page,
# every option its help lists is in the English page.
check_sections() {
	_bin=$1
	shift
	_cmds=$(help_commands "$_bin")
	if [ -z "$_cmds" ]; then
		not_ok "$(basename "$_bin") --help lists its commands"
		return
	fi
	: >"$T/paths"
	for _c in $_cmds; do
		_subs=$(help_subcommands "$_bin" "$_c")
		if [ -z "$_subs" ]; then
			echo "$_c" >>"$T/paths"
		else
			for _s in $_subs; do echo "$_c $_s" >>"$T/paths"; done
		fi
	done
	for _page in "$@"; do
		if [ ! -f "$_page" ]; then
			not_ok "$_page exists"
			continue
		fi
		_missing=""
		while read -r _path; do
			grep -q "^\.Ss $_path\( \|\$\)" "$_page" || _missing="$_missing '$_path'"
		done <"$T/paths"
		if [ -z "$_missing" ]; then
			ok "$_page has a section for each of the $(wc -l <"$T/paths") commands $(basename "$_bin") --help lists"
		else
			not_ok "$_page has a section for each command $(basename "$_bin") --help lists; missing:$_missing"
		fi
	done
	page_options "$1" >"$T/page-opts"
	: >"$T/help-opts"
	while read -r _path; do
		# shellcheck disable=SC2086 # the path is the command words
		help_options "$_bin" $_path >>"$T/help-opts"
	done <"$T/paths"
	help_options "$_bin" >>"$T/help-opts"
	_missing=$(sort -u "$T/help-opts" | comm -23 - "$T/page-opts" | tr '\n' ' ')
	if [ -z "$_missing" ]; then
		ok "$1 documents every option $(basename "$_bin")'s help lists ($(sort -u "$T/help-opts" | wc -l) options)"
	else
		not_ok "$1 documents every option $(basename "$_bin")'s help lists; missing: $_missing"
	fi
}

if [ -x "$SEALDROP" ] && [ -x "$SEALDROPD" ]; then
	check_sections "$SEALDROP" docs/sealdrop.1 docs/ko/sealdrop.1
	check_sections "$SEALDROPD" docs/sealdropd.8 docs/ko/sealdropd.8
else
	not_ok "the binaries exist: $SEALDROP $SEALDROPD"
fi

# the Korean pages mention every option the English ones do
for page in sealdrop.1 sealdropd.8 sealdropd.conf.5 sealdrop-format.5; do
	[ -f "docs/ko/$page" ] || continue
	page_options "docs/$page" >"$T/en-opts"
	page_options "docs/ko/$page" >"$T/ko-opts"
	missing=$(comm -23 "$T/en-opts" "$T/ko-opts" | tr '\n' ' ')
	if [ -z "$missing" ]; then
		ok "docs/ko/$page has every option docs/$page has ($(wc -l <"$T/en-opts"))"
	else
		not_ok "docs/ko/$page has every option docs/$page has; missing: $missing"
	fi
done
# and every setting of sealdropd.conf(5)
grep '^\.It Ic [a-z_]*' docs/sealdropd.conf.5 | awk '{ print $3 }' | sort -u >"$T/en-set"
grep '^\.It Ic [a-z_]*' docs/ko/sealdropd.conf.5 2>/dev/null | awk '{ print $3 }' | sort -u >"$T/ko-set"
missing=$(comm -23 "$T/en-set" "$T/ko-set" | tr '\n' ' ')
if [ -z "$missing" ] && [ -s "$T/en-set" ]; then
	ok "docs/ko/sealdropd.conf.5 describes every setting ($(wc -l <"$T/en-set"))"
else
	not_ok "docs/ko/sealdropd.conf.5 describes every setting; missing: $missing"
fi

# --- bash completions -------------------------------------------------------------------
# bcomp WORD...: what the bash completion offers for the last word (COMP_WORDS as given).
bcomp() {
	bash -c '. completions/sealdrop.bash || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sealdrop || exit 1
		printf "%s\n" "${COMPREPLY[@]}"' bcomp "$@" 2>"$T/bcomp.err"
}
# completes SHELL FUNCTION DESCRIPTION WANTED UNWANTED WORD...: FUNCTION's completion
# (bcomp or zcomp, whose errors go to $T/FUNCTION.err) includes every word of WANTED and
# none of UNWANTED.
completes() {
	_sh=$1 _fn=$2 _d=$3 _want=$4 _unwanted=$5
	shift 5
	_got=$("$_fn" "$@" | tr '\n' ' ')
	_bad=""
	for _w in $_want; do
		case " $_got " in *" $_w "*) ;; *) _bad="$_bad missing $_w;" ;; esac
	done
	for _w in $_unwanted; do
		case " $_got " in *" $_w "*) _bad="$_bad offers $_w;" ;; esac
	done
	if [ -z "$_bad" ] && [ ! -s "$T/$_fn.err" ]; then
		ok "$_sh: $_d"
	else
		not_ok "$_sh: $_d:$_bad"
		diag "offered: $_got" "$(head -n 3 "$T/$_fn.err")"
	fi
}
offers() { completes bash bcomp "$@"; }

if bash -n completions/sealdrop.bash && bash -n completions/sealdropd.bash; then
	ok "bash: the completion files parse"
else
	not_ok "bash: the completion files parse"
fi
offers "'sealdrop se' completes seal" "seal" "keygen" "$SEALDROP" se
offers "'sealdrop ' completes every command" "$(help_commands "$SEALDROP")" "" "$SEALDROP" ""
offers "'sealdrop file --' completes file's options" "--server --ca --cert --key --root --parallel --json" "--kind --intake" "$SEALDROP" file --
offers "'sealdrop directory ' completes its subcommands" "create verify" "" "$SEALDROP" directory ""
offers "'sealdrop directory create --' completes create's options" "--deployment --agency --test" "" "$SEALDROP" directory create --
offers "'sealdrop keygen --kind ' completes the key kinds" "root intake identity agency attorney log" "" "$SEALDROP" keygen --kind ""
offers "'sealdrop consent grant --scope ' completes commission" "commission" "" "$SEALDROP" consent grant --scope ""
offers "'sealdrop transition CASE ' completes the actions" "extend refer forward terminate outcome reinvestigate close" "" "$SEALDROP" transition 2026-000001 ""
offers "'sealdrop cases --state ' completes the states" "received closed objection-filed" "" "$SEALDROP" cases --state ""
offers "'sealdrop seal --out ' leaves file names to bash (no words)" "" "--json seal" "$SEALDROP" seal --out ""
offers "'sealdropd ' completes every command" "$(help_commands "$SEALDROPD")" "seal" "$SEALDROPD" ""
offers "'sealdropd enroll --role ' completes the roles" "attorney officer custodian operator" "" "$SEALDROPD" enroll --role ""
offers "'sealdropd enroll --' completes enroll's options" "--dir --role --name --csr --cert-out" "" "$SEALDROPD" enroll --
offers "'sealdropd audit ' completes its subcommands" "check publish" "" "$SEALDROPD" audit ""

# each --help is run once per shell: a wrapper counts the runs over three completions
mkdir -p "$T/count"
cat >"$T/count/sealdrop" <<EOF
#!/bin/sh
echo run >>"$T/count/runs"
exec "$SEALDROP" "\$@"
EOF
chmod +x "$T/count/sealdrop"
got=$(bash -c '. completions/sealdrop.bash
	for i in 1 2 3; do COMP_WORDS=("$1" transition 2026-000001 refer --kind ""); COMP_CWORD=5; _sealdrop; done
	printf "%s\n" "${COMPREPLY[@]}"' x "$T/count/sealdrop" 2>&1 | tr '\n' ' ')
runs=$(wc -l <"$T/count/runs" 2>/dev/null || echo 0)
if [ "$got" = "inspection investigation " ] && [ "$runs" -eq 2 ]; then
	ok "bash: --help is read once per command and cached (2 runs for 3 completions)"
else
	not_ok "bash: --help is read once per command and cached: offered '$got', $runs runs"
fi
if [ -f /usr/share/bash-completion/bash_completion ]; then
	if bash -c '. /usr/share/bash-completion/bash_completion; . completions/sealdropd.bash; complete -p sealdrop sealdropd' >"$T/cp" 2>&1 &&
		grep -q -- '-F _sealdrop sealdropd' "$T/cp"; then
		ok "bash: sealdropd.bash registers the completion under bash-completion"
	else
		not_ok "bash: sealdropd.bash registers the completion under bash-completion"
		diag "$(head -n 5 "$T/cp")"
	fi
else
	skip "bash-completion not installed"
fi

# --- zsh completions --------------------------------------------------------------------
# zcomp PREFIX WORD...: what _sealdrop offers for the last word, with _describe and _files
# replaced by functions that print their candidates.
zcomp() {
	_pre=$1
	shift
	zsh -f -c 'fpath=(completions $fpath)
		autoload -Uz _sealdrop _sealdropd
		_describe() { print -rl -- "${(@P)argv[-1]}" }
		_files() { print -r -- "<files>" }
		PREFIX=$1; shift; words=("$@"); CURRENT=$#
		if [[ ${words[1]:t} == sealdropd ]]; then _sealdropd; else _sealdrop; fi' zcomp "$_pre" "$@" 2>"$T/zcomp.err" |
		sed 's/\\:/\x01/g; s/:.*//; s/\x01/:/g'
}
zoffers() { completes zsh zcomp "$@"; }

if command -v zsh >/dev/null 2>&1; then
	if zsh -f -c 'fpath=(completions $fpath); autoload -Uz compinit; compinit -u -d "$1/zcompdump"
		autoload -Uz _sealdrop _sealdropd
		[[ $_comps[sealdrop] == _sealdrop && $_comps[sealdropd] == _sealdropd ]]' x "$T" >"$T/z.out" 2>&1 &&
		[ ! -s "$T/z.out" ]; then
		ok "zsh: compinit finds _sealdrop and _sealdropd for sealdrop and sealdropd, without error"
	else
		not_ok "zsh: compinit finds _sealdrop and _sealdropd for sealdrop and sealdropd, without error"
		diag "$(head -n 5 "$T/z.out")"
	fi
	# and through zsh's own completion system, in an interactive shell on a pseudo-terminal:
	# "--se<Tab>" must become "--server " on the command line
	cat >"$T/zpty.zsh" <<'EOF'
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "PROMPT='>'; fpath=($PWD/completions \$fpath); autoload -Uz compinit; compinit -u -d $T/zcd; unsetopt beep"
zpty -w -n z "$SEALDROP file x --se"$'\t'
all=""
for i in {1..40}; do
	sleep 0.5
	while zpty -r -t z out; do all+=$out; done
	[[ $all == *--server* ]] && { zpty -d z; exit 0 }
done
zpty -d z
exit 1
EOF
	if env T="$T" SEALDROP="$SEALDROP" timeout 30 zsh -f "$T/zpty.zsh" >/dev/null 2>&1; then
		ok "zsh: in an interactive zsh, 'sealdrop file x --se<Tab>' completes --server"
	else
		not_ok "zsh: in an interactive zsh, 'sealdrop file x --se<Tab>' completes --server"
	fi
	zoffers "'sealdrop ' completes every command" "$(help_commands "$SEALDROP")" "" "" "$SEALDROP" ""
	zoffers "'sealdrop file --' completes file's options" "--server --ca --cert --key --root" "--kind" "--" "$SEALDROP" file --
	zoffers "'sealdrop consent ' completes its subcommands" "grant revoke list" "" "" "$SEALDROP" consent ""
	zoffers "'sealdrop consent grant --scope ' completes commission and agency:" "commission agency:" "" "" "$SEALDROP" consent grant --scope ""
	zoffers "'sealdrop transition CASE ' completes the actions" "refer close" "" "" "$SEALDROP" transition 2026-000001 ""
	zoffers "'sealdrop seal --out ' completes file names" "<files>" "--json" "" "$SEALDROP" seal --out ""
	zoffers "'sealdropd enroll --role ' completes the roles" "attorney officer custodian operator" "" "" "$SEALDROPD" enroll --role ""
	zoffers "'sealdropd audit ' completes its subcommands" "check publish" "" "" "$SEALDROPD" audit ""
else
	for d in "compinit loads _sealdrop" "interactive completion" "sealdrop commands" "file options" "consent subcommands" \
		"--scope values" "transition actions" "file names" "sealdropd roles" "sealdropd audit"; do
		skip "zsh not installed ($d)"
	done
fi

done_testing
