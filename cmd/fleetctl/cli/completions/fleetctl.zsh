#compdef fleetctl
# zsh completion for fleetctl: commands, flags, and host and group names from the inventory (-i, or
# FLEETCTL_INVENTORY, or inventory.toml). Load it with:  source <(fleetctl completion zsh)  (after compinit),
# or save it as _fleetctl in a folder of $fpath.
_fleetctl() {
	local out line
	local -a lines described plain
	out=$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
	lines=("${(@f)out}")
	if [[ ${lines[1]} == ":files" ]]; then
		compset -P '*='
		_files
		return
	fi
	for line in $lines; do
		[[ -n $line ]] || continue
		if [[ $line == *$'\t'* ]]; then
			described+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
		else
			plain+=("$line")
		fi
	done
	(( ${#described} )) && _describe -t fleetctl 'fleetctl' described
	(( ${#plain} )) && compadd -a plain
	return 0
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
	_fleetctl "$@"
else
	compdef _fleetctl fleetctl
fi
