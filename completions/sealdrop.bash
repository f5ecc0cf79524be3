# bash completion for sealdrop(1) and sealdropd(8)                    -*- shell-script -*-
#
# The commands, subcommands and options are never listed here: they are read, when first
# needed, from the binary's own `--help` (in the C locale), so they cannot go stale. Each
# help text is parsed once per shell and kept in _sealdrop_cache. Option arguments
# complete from the values the help names (--kind root|intake|..., --role attorney,
# officer, custodian or operator, --state (received, extended, ...)); everything else
# falls back to file names. The same file serves sealdropd (completions/sealdropd.bash
# sources it when installed under its own name).

declare -gA _sealdrop_cache=()

# _sealdrop_parse PATH: the help text on stdin, PATH the command words ("sealdrop
# consent"). Prints tab-separated records:
#	U word            a subcommand named in the usage lines (directory create)
#	L word desc       a word listed as "  word   description" (commands, actions)
#	O --opt arg desc  an option; arg is 1 when it takes a value
#	V --opt value     a value the help names for the option
_sealdrop_parse() {
	LC_ALL=C awk -v path="$1" '
	function addopt(name, arg, desc) {
		if (!(name in seen)) { order[++n] = name; seen[name] = 1; takes[name] = 0 }
		if (arg) takes[name] = 1
		if (desc != "" && descr[name] == "") descr[name] = desc
	}
	function addval(name, v) {
		sub(/[A-Z]+$/, "", v)          # agency:ID -> agency:
		if (v == "" || (name SUBSEP v) in hasval) return
		hasval[name, v] = 1; vals[name] = vals[name] " " v
	}
	function usage_line(line,    rest, t, i, k, alts, p) {
		# a subcommand right after the command path: the rest of the line is its own
		p = index(line, " " path " ")
		if (p > 0) {
			t = substr(line, p + length(path) + 2)
			sub(/ .*/, "", t)
			if (t ~ /^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$/) {
				k = split(t, alts, "|")
				for (i = 1; i <= k; i++) if (!(alts[i] in subs)) { subs[alts[i]] = 1; print "U\t" alts[i] }
				return
			}
		}
		# --opt followed by a value word; a|b|c names the values
		rest = line
		while (match(rest, /--[a-z][a-z0-9-]*/)) {
			name = substr(rest, RSTART, RLENGTH)
			rest = substr(rest, RSTART + RLENGTH)
			if (match(rest, /^ [A-Za-z0-9][^ \]\[()]*/)) {
				t = substr(rest, 2, RLENGTH - 1)
				addopt(name, 1, "")
				if (t ~ /\|/) {
					k = split(t, alts, "|")
					for (i = 1; i <= k; i++) if (alts[i] ~ /^[a-z]/) addval(name, alts[i])
				}
			} else addopt(name, 0, "")
		}
	}
	function option_line(line,    name, arg) {
		sub(/^ +/, "", line)
		sub(/^-h, /, "", line)
		last = ""
		while (match(line, /^--[a-z][a-z0-9-]*/)) {
			name = substr(line, 1, RLENGTH)
			line = substr(line, RLENGTH + 1)
			arg = 0
			if (match(line, /^ [^ -][^ ]*/)) { arg = 1; line = substr(line, RLENGTH + 1) }
			if (match(line, /^ --/)) line = substr(line, 2)
			addopt(name, arg, "")
			if (last == "") last = name
		}
		sub(/^ +/, "", line)
		if (last != "") { full[last] = line; descr[last] = line }
	}
	BEGIN { para = 0; cont = "" }
	/^[ \t]*$/ { if (NR > 1) para++; cont = ""; next }
	para == 0 { usage_line($0); next }
	/^ +-/ && match($0, /^ +/) && RLENGTH <= 4 { option_line($0); cont = last; next }
	/^          +[^ ]/ && cont != "" { t = $0; sub(/^ +/, "", t); full[cont] = full[cont] " " t; next }
	/^  [a-z][a-z0-9-]* +[^ ]/ {
		w = $0; sub(/^  /, "", w); d = w; sub(/ .*/, "", w); sub(/^[^ ]+ +/, "", d)
		print "L\t" w "\t" d; cont = ""; next
	}
	{ cont = "" }
	END {
		addopt("--help", 0, "this help")   # every command takes it
		for (i = 1; i <= n; i++) {
			name = order[i]; d = full[name]
			# "attorney, officer, custodian or operator"
			if (d ~ /^[a-z][a-z-]*(, [a-z][a-z-]*)+,? or [a-z][a-z-]*$/) {
				gsub(/,|or /, "", d); k = split(d, ws, " ")
				for (j = 1; j <= k; j++) addval(name, ws[j])
			} else if (match(d, /\([a-z][a-z-]*(, +[a-z][a-z-]*)+\)/)) {
				d = substr(d, RSTART + 1, RLENGTH - 2); gsub(/,/, "", d); k = split(d, ws, " ")
				for (j = 1; j <= k; j++) addval(name, ws[j])
			}
			print "O\t" name "\t" takes[name] "\t" descr[name]
			if (vals[name] != "") { k = split(vals[name], ws, " "); for (j = 1; j <= k; j++) print "V\t" name "\t" ws[j] }
		}
	}'
}

# _sealdrop_help BIN WORD...: sets _sealdrop_reply to the parsed help of
# "BIN WORD... --help" (in the C locale), parsed once per shell and kept in the cache.
_sealdrop_help() {
	local key="$*"
	if [[ -z ${_sealdrop_cache[$key]+set} ]]; then
		_sealdrop_cache[$key]=$(LC_ALL=C LANGUAGE='' "$@" --help 2>/dev/null </dev/null |
			_sealdrop_parse "${1##*/}${2:+ ${*:2}}")
	fi
	_sealdrop_reply=${_sealdrop_cache[$key]}
}

# _sealdrop_field HELP TYPE [NAME]: column 2 (or, with NAME, column 3 of NAME's records).
_sealdrop_field() {
	if [[ $# -eq 2 ]]; then
		printf '%s\n' "$1" | awk -F '\t' -v t="$2" '$1 == t { print $2 }'
	else
		printf '%s\n' "$1" | awk -F '\t' -v t="$2" -v n="$3" '$1 == t && $2 == n { print $3 }'
	fi
}

_sealdrop() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local bin=${COMP_WORDS[0]}
	# shellcheck disable=SC2088 # a literal "~/" typed on the command line
	[[ $bin == "~/"* ]] && bin=$HOME/${bin#\~/}
	command -v -- "$bin" >/dev/null 2>&1 || return 0
	COMPREPLY=()

	# the command path: the binary, its command, and a subcommand when the command has them
	local -a path=("$bin")
	local i=1 top cmdhelp="" positional=0 _sealdrop_reply
	_sealdrop_help "$bin"
	top=$_sealdrop_reply
	while ((i < COMP_CWORD)); do
		local w=${COMP_WORDS[i]}
		if [[ $w != -* ]]; then
			if ((${#path[@]} == 1)); then
				path+=("$w")
				_sealdrop_help "${path[@]}"
				cmdhelp=$_sealdrop_reply
				# a command with subcommands takes one next
				if [[ -n $(_sealdrop_field "$cmdhelp" U) && $((i + 1)) -lt $COMP_CWORD ]]; then
					i=$((i + 1))
					path+=("${COMP_WORDS[i]}")
				fi
			elif _sealdrop_help "${path[@]}" &&
				[[ $(_sealdrop_field "$_sealdrop_reply" O "${COMP_WORDS[i - 1]}") != 1 ]]; then
				positional=$((positional + 1))
			fi
		fi
		i=$((i + 1))
	done

	if ((${#path[@]} == 1)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_sealdrop_field "$top" O)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_sealdrop_field "$top" L)" -- "$cur")
		fi
		return 0
	fi

	local help
	_sealdrop_help "${path[@]}"
	help=$_sealdrop_reply
	# a command that needs its subcommand, and has none yet
	if ((${#path[@]} == 2)) && [[ $cur != -* ]]; then
		local subs
		subs=$(_sealdrop_field "$help" U)
		if [[ -n $subs ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
			return 0
		fi
	fi
	# the value of an option
	if [[ $prev == --* && $(_sealdrop_field "$help" O "$prev") == 1 ]]; then
		local vals
		vals=$(_sealdrop_field "$help" V "$prev")
		[[ -n $vals ]] && mapfile -t COMPREPLY < <(compgen -W "$vals" -- "$cur")
		return 0 # no values named: file names (complete -o default)
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_sealdrop_field "$help" O)" -- "$cur")
		return 0
	fi
	# words listed after the first argument (transition CASE ACTION)
	if ((positional == 1)); then
		local acts
		acts=$(_sealdrop_field "$help" L)
		[[ -n $acts ]] && mapfile -t COMPREPLY < <(compgen -W "$acts" -- "$cur")
	fi
	return 0
}

complete -o default -F _sealdrop sealdrop sealdropd
