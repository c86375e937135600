package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/templates"
)

// RenderedFile is one file or script as `render` shows it.
type RenderedFile struct {
	Name    string
	Content string
}

// Render returns every file and TICK script a host would get, with secrets masked. It contacts no server and
// needs only the master secret (to mask the derived passwords consistently, the passwords are never shown).
func Render(o Options, host string) ([]RenderedFile, error) {
	o.defaults()
	inv, packs, inputs, err := loadChecked(o)
	if err != nil {
		return nil, err
	}
	return renderHost(inv, packs, inputs, host)
}

func renderHost(inv *inventory.Inventory, packs *alertpacks.Set, inputs *templates.Set, host string) ([]RenderedFile, error) {
	h, ok := inv.Host(host)
	if !ok {
		names := []string{}
		for _, x := range inv.Hosts() {
			names = append(names, x.Name)
		}
		msg := fmt.Sprintf("%s has no host %q", inv.File, host)
		if dym := inventory.DidYouMean(host, names); dym != "" {
			msg += "; " + dym
		}
		return nil, errors.New(msg)
	}
	specs, err := catalog.FromInventory(inv, inputs, []inventory.Host{h})
	if err != nil {
		return nil, err
	}
	spec := specs[0]
	handlers := alertpacks.Handlers{LogPath: inv.Alerts.Log, Email: inv.Alerts.Email, Webhook: inv.Alerts.Webhook}
	// Render shows the Linux layout most hosts have (apt, dnf, yum, zypper); Alpine's differs only in paths.
	d, err := catalog.Desired(spec, system.Families()["apt"], catalog.AgentOutput{URL: inv.InfluxDB.AgentURL, CA: inv.InfluxDB.AgentCA}, secret.New(secret.Mask), packs, handlers)
	if err != nil {
		return nil, err
	}
	var out []RenderedFile
	for _, f := range d.Files {
		out = append(out, RenderedFile{Name: fmt.Sprintf("%s (mode %04o, %s:%s)", f.Path, f.Mode, f.Owner, f.Group), Content: string(f.Content)})
	}
	for _, s := range d.Scripts {
		out = append(out, RenderedFile{Name: fmt.Sprintf("kapacitor task %s-%s (pack %s, %s, dbrp %s.%s)", spec.Name, s.Alert, s.Pack, filepath.Base(s.File), spec.Database, spec.RetentionPolicy.NameOrDefault()), Content: s.Text})
	}
	// Each route's handler, its secret options masked (render reads no secret).
	masked := contacts(inv, func(inventory.SecretRef) secret.Value { return secret.New(secret.Mask) })
	for _, r := range spec.Routes {
		c := masked[r]
		body, err := json.MarshalIndent(map[string]any{"id": r, "kind": c.Kind, "options": c.Options, "match": c.Match}, "", "  ")
		if err != nil {
			return nil, err
		}
		out = append(out, RenderedFile{Name: fmt.Sprintf("kapacitor handler %s/%s (route %s)", kapacitor.HostTopic(spec.Name), r, r), Content: string(body) + "\n"})
	}
	return out, nil
}
