# bash completion for fleetctl: commands, flags, and host and group names from the inventory (-i, or
# FLEETCTL_INVENTORY, or inventory.toml). Load it with:  source <(fleetctl completion bash)
# The candidates come from `fleetctl __complete WORDS...`, which prints one a line (a tab, then a description)
# or ":files" to ask for file names.
_fleetctl_complete() {
	local line=${COMP_LINE:0:COMP_POINT} out cand cur bcur skip
	local -a words
	read -ra words <<< "$line"
	[[ $line =~ [[:space:]]$ ]] && words+=("")
	((${#words[@]} > 1)) || return 0
	cur=${words[${#words[@]}-1]}
	bcur=${COMP_WORDS[COMP_CWORD]}
	out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
	COMPREPLY=()
	if [[ $out == ":files"* ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$bcur")
		return 0
	fi
	# bash splits words at "=" and ":" too: keep only the part of each candidate after its current word's start.
	skip=$((${#cur} - ${#bcur}))
	((skip < 0)) && skip=0
	while IFS= read -r cand; do
		[[ -n $cand ]] && COMPREPLY+=("${cand%%$'\t'*}")
	done <<< "$out"
	local i
	for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]:skip}; done
	return 0
}
complete -F _fleetctl_complete fleetctl
