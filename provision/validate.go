package provision

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/dashboards"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/templates"
)

// checkAll loads the inventory and checks every name it mentions against what fleetctl ships and the team's own
// alert packs: alert packs, inputs, profiles, and vars (declared by a pack of a host they apply to, with a value of
// the declared type). It goes on past every problem so that one run reports them all: the inventory's own and its
// mentions, sorted by line, then the team's packs'. inv and packs are returned even with problems (for validate to
// count hosts), but only a nil error makes them fit to provision with. The input snippets (shipped and
// telegraf.inputs_dir's) are checked alike.
func checkAll(o Options) (*inventory.Inventory, *alertpacks.Set, *templates.Set, error) {
	inv, problems, err := inventory.LoadAll(o.InventoryPath, o.Getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	packs, err := alertpacks.Shipped()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load shipped alert packs: %w", err)
	}
	inputs, inputErr := loadInputs(inv, problems)
	if inputs.set == nil {
		return nil, nil, nil, inputErr
	}
	c := &refCheck{inv: inv, packs: packs, inputs: inputs}
	var packErr error
	for _, p := range problems {
		// A packs_dir that is not a path: the team's packs are unknown, so are the names they would supply.
		c.incomplete = c.incomplete || p.Key == "alerts.packs_dir"
	}
	if dir := inv.Alerts.PacksDir; dir != "" && !c.incomplete {
		own, broken, err := alertpacks.CheckDir(packs, dir)
		if err != nil {
			packErr = fmt.Errorf("alerts.packs_dir in %s: %w", inv.File, err)
		}
		if own == nil {
			c.incomplete = true
		} else {
			c.packs, c.broken = own, broken
		}
	}
	for _, ref := range inv.Refs() {
		if e := c.check(ref); e != nil {
			problems = append(problems, e)
		}
	}
	problems = append(problems, inputs.checkHosts(inv)...)
	problems = append(problems, checkMatches(inv)...)
	problems.Sort()
	var errs []error
	if len(problems) > 0 {
		errs = append(errs, problems)
	}
	if packErr != nil {
		errs = append(errs, packErr)
	}
	if dir := inv.Grafana.DashboardsDir; dir != "" {
		if _, err := dashboards.Load(dir); err != nil {
			errs = append(errs, fmt.Errorf("grafana.dashboards_dir in %s: %w", inv.File, err))
		}
	}
	if inputErr != nil {
		errs = append(errs, inputErr)
	}
	return inv, c.packs, inputs.set, errors.Join(errs...)
}

// loadChecked is checkAll for commands that go on to provision: any problem is an error.
func loadChecked(o Options) (*inventory.Inventory, *alertpacks.Set, *templates.Set, error) {
	inv, packs, inputs, err := checkAll(o)
	if err != nil {
		return nil, nil, nil, err
	}
	return inv, packs, inputs, nil
}

// refCheck checks the inventory's mentions of names against the packs and templates.
type refCheck struct {
	inv        *inventory.Inventory
	packs      *alertpacks.Set
	broken     []string // the team's packs that failed to load: mentions of them are not reported again
	incomplete bool     // the team's packs could not be read: a name not shipped may be theirs
	inputs     inputCheck
}

func (c *refCheck) check(ref inventory.Ref) *inventory.Error {
	var known []string
	switch ref.Kind {
	case "alert_pack":
		if slices.Contains(c.broken, ref.Name) || c.incomplete {
			if _, ok := c.packs.Pack(ref.Name); !ok {
				return nil
			}
		}
		known = c.packs.Names()
	case "input", "profile":
		if c.inputs.incomplete || slices.Contains(c.inputs.broken, ref.Name) {
			return nil
		}
		known = c.inputs.set.Names()
		if ref.Kind == "profile" {
			known = c.inputs.set.ProfileNames()
		}
	case "input_var":
		return c.inputs.checkInputVar(c.inv, ref)
	case "var":
		return c.checkVar(ref)
	default:
		return nil
	}
	if slices.Contains(known, ref.Name) {
		return nil
	}
	fix := "known: " + strings.Join(known, ", ")
	if dym := inventory.DidYouMean(ref.Name, known); dym != "" {
		fix = dym + "; " + fix
	}
	return ref.Err(fmt.Sprintf("unknown %s %q", strings.ReplaceAll(ref.Kind, "_", " "), ref.Name), fix)
}

// checkVar refuses a var that no alert pack of the hosts it applies to declares (it would change nothing: the
// host keeps the pack's default), and a value the declaring pack cannot render.
func (c *refCheck) checkVar(ref inventory.Ref) *inventory.Error {
	hosts := c.inv.AppliesTo(ref)
	var used []string // the alert packs of those hosts, in order of first mention
	for _, h := range hosts {
		for _, p := range h.AlertPacks {
			if !slices.Contains(used, p) {
				used = append(used, p)
			}
		}
	}
	if len(hosts) == 0 { // a group no host lists: any pack may be meant
		for _, p := range c.packs.Packs() {
			used = append(used, p.Name)
		}
	}
	decl, declared := c.packs.VarPack(ref.Name)
	if declared && slices.Contains(used, decl.Name) {
		if err := decl.CheckValue(ref.Name, ref.Value); err != nil {
			return ref.Err(err.Error(), "")
		}
		return nil
	}
	// A pack that failed to load (its own error is reported) or could not be read may declare it.
	for _, p := range used {
		if _, ok := c.packs.Pack(p); !ok && (c.incomplete || slices.Contains(c.broken, p)) {
			return nil
		}
	}
	if c.incomplete && !declared {
		return nil
	}
	whose := "any host"
	switch level := c.inv.Level(ref); {
	case strings.HasPrefix(level, "group "):
		whose = "any host of " + level
		if len(hosts) == 0 {
			whose = "any alert pack"
		}
	case level != "defaults":
		whose = level
	}
	if declared {
		return ref.Err(fmt.Sprintf("var %q belongs to alert pack %q, which %s does not use: it would change nothing", ref.Name, decl.Name, whose),
			fmt.Sprintf("add %q to the host's alert_packs, or remove the var", decl.Name))
	}
	var vars []string
	for _, name := range used {
		if p, ok := c.packs.Pack(name); ok {
			for _, v := range p.Vars {
				vars = append(vars, v.Name)
			}
		}
	}
	slices.Sort(vars)
	msg := fmt.Sprintf("unknown var %q: no alert pack of %s declares it, so it would change nothing", ref.Name, whose)
	if whose == "any alert pack" {
		msg = fmt.Sprintf("unknown var %q: no alert pack declares it, so it would change nothing", ref.Name)
	}
	fix := "the alert packs there declare no vars"
	if len(vars) > 0 {
		fix = "declared there: " + strings.Join(vars, ", ")
		if dym := inventory.DidYouMean(ref.Name, vars); dym != "" {
			fix = dym + "; " + fix
		}
	}
	return ref.Err(msg, fix)
}

// Validate checks the inventory and everything it mentions, then renders every host's files and scripts (which
// parses every TICK script), contacting no server. Every problem of every kind is reported at once; hosts are
// rendered only when nothing else is wrong, since a problem already reported would fail each host's rendering
// again. It returns the number of hosts.
func Validate(o Options) (int, error) {
	o.defaults()
	inv, packs, inputs, err := checkAll(o)
	if inv == nil {
		return 0, err
	}
	n := len(inv.Hosts())
	if err != nil {
		return n, err
	}
	var errs []error
	for _, h := range inv.Hosts() {
		if _, err := renderHost(inv, packs, inputs, h.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: host %s: %w", h.Where(), h.Name, err))
		}
	}
	if o.CheckSecrets {
		errs = append(errs, checkSecretSources(inv, inputs))
	}
	return n, errors.Join(errs...)
}

// checkSecretSources resolves every secret source the inventory names (servers, master, sudo, contacts, service
// settings, every host's input secrets) and reports each that does not resolve at its line; the values are read
// and dropped, never shown.
func checkSecretSources(inv *inventory.Inventory, inputs *templates.Set) error {
	var errs []error
	if err := inv.CheckSecrets(); err != nil {
		errs = append(errs, err)
	}
	hosts, err := catalog.FromInventory(inv, inputs, inv.Hosts())
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if _, err := catalog.ResolveInputSecrets(hosts); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkMatches parses every contact's match expression with Kapacitor's TICK parser, as the lambda Kapacitor makes
// of it, so a typo is refused offline with its line rather than by Kapacitor at apply.
func checkMatches(inv *inventory.Inventory) inventory.Errors {
	var errs inventory.Errors
	for _, name := range inv.Alerts.ContactNames() {
		m := inv.Alerts.Contacts[name].Match
		if m == "" {
			continue
		}
		if _, err := alertpacks.Parse("var match = lambda: " + m + "\n"); err != nil {
			errs = append(errs, inv.Err("alerts.contacts."+name+".match", fmt.Sprintf("invalid match expression %q: %v", m, err),
				`write a TICK lambda expression without "lambda:", such as "level() >= WARNING" or "\"host\" == 'web1'"`))
		}
	}
	return errs
}
