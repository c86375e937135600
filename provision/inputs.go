package provision

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/templates"
)

// inputCheck is what the inventory's mentions of inputs, profiles and input variables are checked against: the
// shipped snippets and profiles and those of telegraf.inputs_dir.
type inputCheck struct {
	set        *templates.Set
	broken     []string // the user's inputs and profiles that failed to load: their own problems are reported
	incomplete bool     // the user's folder could not be read: a name not shipped may be theirs
}

// loadInputs loads the shipped snippets and the user's; err holds the folder's problems, each at its file and line.
func loadInputs(inv *inventory.Inventory, problems inventory.Errors) (inputCheck, error) {
	set, err := templates.Shipped()
	if err != nil {
		return inputCheck{}, fmt.Errorf("load shipped inputs: %w", err)
	}
	c := inputCheck{set: set}
	dir := inv.Telegraf.InputsDir
	if slices.ContainsFunc(problems, func(p *inventory.Error) bool { return p.Key == "telegraf.inputs_dir" }) {
		c.incomplete = true
		return c, nil
	}
	if dir == "" {
		return c, nil
	}
	own, broken, err := set.WithDir(dir)
	c.set, c.broken = own, broken
	var ps templates.Problems
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &ps):
		return c, err
	default: // the folder itself: missing, not a folder
		c.incomplete = true
		return c, inv.Err("telegraf.inputs_dir", err.Error(), "create the folder, or correct the path (relative to the inventory's folder)")
	}
}

// unknownFix lists the known names, with the closest first.
func unknownFix(name string, known []string) string {
	fix := "known: " + strings.Join(known, ", ")
	if dym := inventory.DidYouMean(name, known); dym != "" {
		fix = dym + "; " + fix
	}
	return fix
}

// hostInputs is a host's final input list, or false when its profile is unknown (reported at its mention).
func (c inputCheck) hostInputs(h inventory.Host) ([]string, bool) {
	p, err := c.set.Profile(h.Profile)
	if err != nil {
		return nil, false
	}
	return templates.ResolveInputs(p.Inputs, h.InputsAdd, h.InputsDrop), true
}

// checkInputVar checks one input_vars.INPUT.VAR mention: the input exists, declares the variable, the value fits its
// type (a secret comes from a source, never inline), and some host it applies to uses the input.
func (c inputCheck) checkInputVar(inv *inventory.Inventory, ref inventory.Ref) *inventory.Error {
	input, name, _ := strings.Cut(ref.Name, ".")
	in, ok := c.set.Input(input)
	if !ok {
		if c.incomplete || slices.Contains(c.broken, input) {
			return nil
		}
		return ref.Err(fmt.Sprintf("unknown telegraf input %q", input), unknownFix(input, c.set.Names()))
	}
	decl, ok := in.Var(name)
	if !ok {
		var names []string
		for _, v := range in.Vars {
			names = append(names, v.Name)
		}
		if len(names) == 0 {
			return ref.Err(fmt.Sprintf("input %q declares no variable %q: it takes none", input, name), "remove it")
		}
		return ref.Err(fmt.Sprintf("input %q declares no variable %q", input, name), unknownFix(name, names))
	}
	_, isSecret := ref.Value.(inventory.SecretRef)
	switch {
	case decl.Type == templates.Secret && !isSecret:
		// Never echo the value: it is probably the secret.
		return ref.Err(fmt.Sprintf("variable %q of input %q is a secret: secrets cannot be written in the inventory", name, input),
			fmt.Sprintf(`write %s = { env = "NAME" } or { file = "path/to/file" }`, name))
	case decl.Type != templates.Secret && isSecret:
		return ref.Err(fmt.Sprintf("variable %q of input %q is a %s, not a secret", name, input, decl.Type), "write its value")
	case !isSecret:
		if _, err := decl.Check(ref.Value); err != nil {
			return ref.Err(fmt.Sprintf("input %s, variable %s: %v", input, name, err), "")
		}
	}
	hosts := inv.AppliesTo(ref)
	if len(hosts) == 0 {
		return nil
	}
	for _, h := range hosts {
		if list, ok := c.hostInputs(h); !ok || slices.Contains(list, input) {
			return nil
		}
	}
	return ref.Err(fmt.Sprintf("input %q is not used by any host this applies to (%s): the variable would change nothing", input, inv.Level(ref)),
		fmt.Sprintf("add %q with inputs_add (or a profile listing it), or remove the variable", input))
}

// checkHosts reports, at each host, a variable of one of its inputs that has neither a value nor a default.
func (c inputCheck) checkHosts(inv *inventory.Inventory) inventory.Errors {
	var errs inventory.Errors
	for _, h := range inv.Hosts() {
		list, ok := c.hostInputs(h)
		if !ok {
			continue
		}
		for _, input := range list {
			in, ok := c.set.Input(input)
			if !ok {
				continue // unknown: reported at its mention
			}
			for _, v := range in.Vars {
				if _, set := h.InputVars[input][v.Name]; set || v.HasDefault {
					continue
				}
				example := `"…"`
				if v.Type == templates.Secret {
					example = `{ env = "NAME" }`
				}
				doc := ""
				if v.Doc != "" {
					doc = ": " + v.Doc
				}
				errs = append(errs, h.Err(fmt.Sprintf("input %q needs variable %q (%s%s), which has no default and is not set for host %s", input, v.Name, v.Type, doc, h.Name),
					fmt.Sprintf("set input_vars.%s.%s = %s in the host, one of its groups or [defaults]", input, v.Name, example)))
			}
		}
	}
	return errs
}
