package cli

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/fleetctl/fleetctl/inventory"
	ucli "github.com/urfave/cli/v2"
)

// flagsFirst moves every flag of the command line's command (and its value) before the command's positional
// arguments, so flags are honoured wherever they stand: urfave/cli, like Go's flag package, stops at the first
// positional argument and would take every later flag for another argument (`plan web1 --limit web1`). What
// follows "--" stays positional. A command line that names no known command, or asks for shell completion, is
// returned as it is.
func flagsFirst(app *ucli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		i++ // fleetctl's own flags (-h) take no value
	}
	if i >= len(args) {
		return args
	}
	var cmd *ucli.Command
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			cmd = c
		}
	}
	// A command with subcommands (alerts test): the flags are the subcommand's.
	for cmd != nil && len(cmd.Subcommands) > 0 && i+1 < len(args) {
		var sub *ucli.Command
		for _, c := range cmd.Subcommands {
			if c.HasName(args[i+1]) {
				sub = c
			}
		}
		if sub == nil {
			break
		}
		cmd, i = sub, i+1
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		tv, ok := f.(interface{ TakesValue() bool })
		for _, n := range f.Names() {
			takesValue[n] = ok && tv.TakesValue()
		}
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			positional = append(positional, rest[j+1:]...)
			j = len(rest)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
			if !strings.Contains(name, "=") && takesValue[name] && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append(append([]string{}, args[:i+1]...), flags...)
	// With -h the command's help is shown; urfave would take an argument for a help topic.
	help := slices.ContainsFunc(flags, func(f string) bool { return f == "-h" || f == "--help" || f == "-help" || f == "--h" })
	if len(positional) > 0 && !help {
		out = append(append(out, "--"), positional...)
	}
	return out
}

// noArgs refuses positional arguments of a command that takes none, with the flag the user probably meant.
func noArgs(c *ucli.Context, io IO) error {
	if c.NArg() == 0 {
		return nil
	}
	arg := c.Args().First()
	msg := fmt.Sprintf("unexpected argument %q: %s takes no arguments", arg, c.Command.Name)
	switch hint := argHint(c, io, arg); {
	case hint != "":
		msg += "; " + hint
	case hasFlag(c, "limit"):
		msg += " (the inventory is given with -i, hosts with --limit)"
	case hasFlag(c, "host"):
		msg += " (the inventory is given with -i, the host with --host)"
	case hasFlag(c, "inventory"):
		msg += " (the inventory is given with -i)"
	}
	return withCode(ExitUsage, fmt.Errorf("%s", msg))
}

// argHint guesses what a stray argument was meant to be: an inventory file (-i) or hosts (--limit).
func argHint(c *ucli.Context, io IO, arg string) string {
	if looksLikeInventory(arg) {
		return "did you mean -i " + shellWord(arg) + "?"
	}
	if hasFlag(c, "limit") && namesHosts(c, io, arg) {
		return "did you mean --limit " + shellWord(arg) + "?"
	}
	if hasFlag(c, "host") && namesHost(c, io, arg) {
		return "did you mean --host " + shellWord(arg) + "?"
	}
	return ""
}

// namesHost reports whether arg is a host of the command's inventory.
func namesHost(c *ucli.Context, io IO, arg string) bool {
	inv, err := inventory.Load(c.String("inventory"), io.Getenv)
	if err != nil {
		return false
	}
	_, ok := inv.Host(arg)
	return ok
}

// looksLikeInventory reports whether path is an existing TOML file (a saved plan is JSON).
func looksLikeInventory(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	if strings.HasSuffix(path, ".toml") {
		return true
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		return false
	}
	var m map[string]any
	_, err = toml.Decode(string(b), &m)
	return err == nil && len(m) > 0
}

// namesHosts reports whether arg selects hosts of the command's inventory.
func namesHosts(c *ucli.Context, io IO, arg string) bool {
	inv, err := inventory.Load(c.String("inventory"), io.Getenv)
	if err != nil {
		return false
	}
	_, err = inv.Select([]string{arg})
	return err == nil
}

func hasFlag(c *ucli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9._/,:@%+=-]+$`)

// shellWord quotes s for a shell when it holds anything a shell would expand or split.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
