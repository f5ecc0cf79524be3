# bash completion for sealdropd(8)                                    -*- shell-script -*-
#
# bash-completion loads completions by command name; sealdropd's are the ones in the
# sealdrop file beside this one (installed as .../completions/sealdrop, in the source tree
# as completions/sealdrop.bash), which reads every command and option from
# `sealdropd --help`.
for _sealdropd_f in "${BASH_SOURCE[0]%/*}/sealdrop" "${BASH_SOURCE[0]%/*}/sealdrop.bash"; do
	if [[ -f $_sealdropd_f ]]; then
		# shellcheck source=completions/sealdrop.bash
		. "$_sealdropd_f"
		break
	fi
done
unset _sealdropd_f
