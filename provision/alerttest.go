package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// Delivery is the outcome of one test notification: one route of one host (Host empty when a route was tested
// on its own), through the Kapacitor service of its handler's kind.
type Delivery struct {
	Host     string
	Route    string
	Kind     string
	Service  string // Kapacitor's service test; "" when the kind has none
	Accepted bool
	Message  string // Kapacitor's message (secrets masked), or why nothing was sent
}

// TestDelivery sends a test notification through each handler a route makes, with Kapacitor's service tests
// (/kapacitor/v1/service-tests): the named route, or every route of the named host. Nothing is planned or
// changed; the service settings used are those Kapacitor has now (apply first to test the inventory's).
func TestDelivery(ctx context.Context, o Options, route, host string) ([]Delivery, error) {
	o.defaults()
	inv, _, _, err := loadChecked(o)
	if err != nil {
		return nil, err
	}
	var routes []string
	switch {
	case route != "" && host != "":
		return nil, fmt.Errorf("give a route or a host, not both")
	case route != "":
		if _, ok := inv.Alerts.Contacts[route]; !ok {
			msg := fmt.Sprintf("%s has no contact %q", inv.File, route)
			if dym := inventory.DidYouMean(route, inv.Alerts.ContactNames()); dym != "" {
				msg += "; " + dym
			}
			return nil, fmt.Errorf("%s", msg)
		}
		routes = []string{route}
	case host != "":
		h, ok := inv.Host(host)
		if !ok {
			return nil, fmt.Errorf("%s has no host %q", inv.File, host)
		}
		if len(h.Routes) == 0 {
			return nil, fmt.Errorf("host %s has no alert route (set alert_routes in the inventory)", host)
		}
		routes = h.Routes
	default:
		return nil, fmt.Errorf("give --route NAME or --host NAME")
	}
	// Only the tested contacts' secrets are needed (not the servers' credentials): each must resolve.
	var bad inventory.Errors
	for _, r := range routes {
		c := inv.Alerts.Contacts[r]
		for _, k := range slices.Sorted(maps.Keys(c.Secrets)) {
			if _, err := c.Secrets[k].Resolve(); err != nil {
				var e *inventory.Error
				if errors.As(err, &e) {
					bad = append(bad, e)
				} else {
					return nil, err
				}
			}
		}
	}
	if len(bad) > 0 {
		return nil, bad
	}
	m := secret.NewMasker()
	resolve := func(r inventory.SecretRef) secret.Value {
		v, _ := r.Resolve()
		m.Add(v)
		return v
	}
	cts := contacts(inv, resolve)
	kc, err := kapacitor.NewClient(kapacitor.Config{URL: inv.Kapacitor.URL, HTTPClient: o.HTTPClient})
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, r := range slices.Clone(routes) {
		c := cts[r]
		d := Delivery{Host: host, Route: r, Kind: c.Kind, Service: kapacitor.TestServiceOf(c.Kind)}
		if d.Service == "" {
			d.Message = fmt.Sprintf("Kapacitor has no service test for %s handlers: nothing sent", c.Kind)
			out = append(out, d)
			continue
		}
		defaults, err := kc.ServiceTestOptions(ctx, d.Service)
		if err != nil {
			d.Message = m.Mask(err.Error())
			out = append(out, d)
			continue
		}
		msg := "fleetctl test notification of route " + r
		if host != "" {
			msg += " for host " + host
		}
		res, err := kc.TestService(ctx, d.Service, kapacitor.TestOptions(defaults, c.Options, msg))
		if err != nil {
			d.Message = m.Mask(err.Error())
		} else {
			d.Accepted, d.Message = res.Success, m.Mask(res.Message)
		}
		out = append(out, d)
	}
	return out, nil
}
