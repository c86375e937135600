package cli

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	ucli "github.com/urfave/cli/v2"
)

// The shell scripts are thin: each asks `fleetctl __complete WORDS...` for the candidates, so commands, flags
// and inventory names are completed the same way in every shell, by the code below.
//
//go:embed completions/fleetctl.bash completions/fleetctl.zsh completions/fleetctl.fish
var completionScripts embed.FS

var completionShells = []string{"bash", "zsh", "fish"}

func completionCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *ucli.Context) error {
			shell := c.Args().First()
			if c.NArg() != 1 || !slices.Contains(completionShells, shell) {
				return withCode(ExitUsage, errors.New("completion takes one argument: bash, zsh or fish"))
			}
			script, err := completionScripts.ReadFile("completions/fleetctl." + shell)
			if err != nil {
				return err
			}
			_, err = io.Stdout.Write(script)
			return err
		},
	}
}

// completeCommand is the hidden call the completion scripts make. Its arguments are the words after "fleetctl"
// up to the cursor, the last one being the word under completion (possibly empty). It prints the candidates that
// start with that word, one a line, each with a tab and a description where one helps; or the line ":files" when
// the shell should complete file names. A problem (an unreadable inventory, say) prints nothing.
func completeCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:            "__complete",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *ucli.Context) error {
			for _, line := range complete(c.App, c.Args().Slice(), io.Getenv) {
				fmt.Fprintln(io.Stdout, line)
			}
			return nil
		},
	}
}

const filesDirective = ":files"

func complete(app *ucli.App, words []string, getenv func(string) string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	var cmd *ucli.Command
	var rest []string
	for i, w := range before {
		if !strings.HasPrefix(w, "-") {
			cmd, rest = app.Command(w), before[i+1:]
			break
		}
	}
	if cmd == nil {
		if strings.HasPrefix(cur, "-") {
			return matching(cur, []string{"--help\tshow help"})
		}
		return matching(cur, commandCandidates(app))
	}
	if cmd.Name == "help" {
		return matching(cur, commandCandidates(app))
	}
	// A flag's value: --flag VALUE, or --flag=VALUE in the word itself.
	if name, val, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "-") {
		if f := findFlag(cmd, name); f != nil {
			vals := flagValues(f, val, rest, getenv)
			if len(vals) == 1 && vals[0] == filesDirective {
				return vals
			}
			for i, v := range vals {
				vals[i] = name + "=" + v
			}
			return matching(cur, vals)
		}
		return nil
	}
	if len(rest) > 0 {
		if f := findFlag(cmd, rest[len(rest)-1]); f != nil && takesValue(f) {
			vals := flagValues(f, cur, rest, getenv)
			if len(vals) == 1 && vals[0] == filesDirective {
				return vals
			}
			return matching(cur, vals)
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		for _, f := range cmd.VisibleFlags() {
			usage := ""
			if d, ok := f.(ucli.DocGenerationFlag); ok {
				usage = "\t" + firstLine(d.GetUsage())
			}
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				out = append(out, dash+n+usage)
			}
		}
		return matching(cur, out)
	}
	switch cmd.Name {
	case "apply", "import-ansible":
		return []string{filesDirective}
	case "completion":
		return matching(cur, completionShells)
	}
	return nil
}

func commandCandidates(app *ucli.App) []string {
	var out []string
	for _, c := range app.VisibleCommands() {
		out = append(out, c.Name+"\t"+c.Usage)
	}
	return out
}

// matching keeps the candidates (before their tab) that start with cur.
func matching(cur string, cands []string) []string {
	var out []string
	for _, c := range cands {
		word, _, _ := strings.Cut(c, "\t")
		if strings.HasPrefix(word, cur) {
			out = append(out, c)
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func findFlag(cmd *ucli.Command, word string) ucli.Flag {
	name := strings.TrimLeft(word, "-")
	if name == "" || name == word {
		return nil
	}
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func takesValue(f ucli.Flag) bool {
	d, ok := f.(ucli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// flagValues are the candidates for a flag's value: inventory names for --limit and --host (the part after the
// last comma of a list), files for paths, the choices of --format.
func flagValues(f ucli.Flag, val string, words []string, getenv func(string) string) []string {
	switch f.Names()[0] {
	case "inventory", "out", "output":
		return []string{filesDirective}
	case "format":
		return []string{"text", "markdown", "json"}
	case "limit", "host", "yes-delete-data":
		inv := loadForCompletion(words, getenv)
		if inv == nil {
			return nil
		}
		var names []string
		if f.Names()[0] == "limit" {
			for _, g := range inv.Groups() {
				names = append(names, g+"\tgroup")
			}
		}
		for _, h := range inv.Hosts() {
			names = append(names, h.Name+"\thost "+h.Address)
		}
		if f.Names()[0] == "limit" {
			if i := strings.LastIndex(val, ","); i >= 0 {
				for j := range names {
					names[j] = val[:i+1] + names[j]
				}
			}
		}
		return names
	}
	return nil
}

// loadForCompletion loads the inventory the command line names (-i/--inventory, else FLEETCTL_INVENTORY, else
// inventory.toml), or returns nil.
func loadForCompletion(words []string, getenv func(string) string) *inventory.Inventory {
	path := getenv("FLEETCTL_INVENTORY")
	for i, w := range words {
		switch {
		case (w == "-i" || w == "--inventory") && i+1 < len(words):
			path = words[i+1]
		case strings.HasPrefix(w, "--inventory="):
			path = strings.TrimPrefix(w, "--inventory=")
		case strings.HasPrefix(w, "-i="):
			path = strings.TrimPrefix(w, "-i=")
		}
	}
	if path == "" {
		path = "inventory.toml"
	}
	inv, err := inventory.Load(path, getenv)
	if err != nil {
		return nil
	}
	return inv
}
