# fish completion for fleetctl: commands, flags, and host and group names from the inventory (-i, or
# FLEETCTL_INVENTORY, or inventory.toml). Load it with:  fleetctl completion fish | source
# or save it as ~/.config/fish/completions/fleetctl.fish.
function __fleetctl_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out ($words[1] __complete $words[2..-1] $cur 2>/dev/null)
    or return
    if test "$out[1]" = ":files"
        # --flag=PATH: complete the path, keep the flag
        set -l flag (string match -r -- '^-[^=]*=' $cur)
        for p in (__fish_complete_path (string replace -r -- '^-[^=]*=' '' $cur))
            echo "$flag$p"
        end
        return
    end
    printf '%s\n' $out
end
complete -c fleetctl -f -a '(__fleetctl_complete)'
