package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/influx"
)

// checkServers makes one authenticated request to InfluxDB and one to Grafana before any host is contacted, so a
// wrong credential is one error, located at the inventory key to fix, instead of the same error for every host.
// (Kapacitor is reached without credentials: its pings come with the host's first read.)
func checkServers(ctx context.Context, inv *inventory.Inventory, ix *influx.Client, gf *grafana.Client) error {
	var errs inventory.Errors
	// SHOW USERS needs an admin: it checks the password and the privilege every host's database and users need.
	if _, err := ix.Query(ctx, "", "SHOW USERS"); err != nil {
		user, ref := inv.InfluxDB.AdminUser, inv.InfluxDB.AdminPassword
		switch {
		case influx.IsAuthFailed(err):
			errs = append(errs, ref.Err(fmt.Sprintf("InfluxDB at %s refused user %q with this password (%v)", inv.InfluxDB.URL, user, err),
				fmt.Sprintf("put %s's password in %s, or change influxdb.admin_user; no host was contacted", user, ref)))
		case influx.IsForbidden(err):
			errs = append(errs, inv.Err("influxdb.admin_user", fmt.Sprintf("InfluxDB at %s accepted user %q but it is not an admin (%v)", inv.InfluxDB.URL, user, err),
				"name an InfluxDB admin (creating databases and users needs one); no host was contacted"))
		case httpx.IsTLS(err):
			errs = append(errs, tlsErr(inv, "influxdb", inv.InfluxDB.TLS, err))
		default:
			errs = append(errs, inv.Err("influxdb.url", fmt.Sprintf("cannot check the admin credentials at %s: %v", inv.InfluxDB.URL, err),
				"make InfluxDB reachable at this URL; no host was contacted"))
		}
	}
	if err := gf.CheckCredentials(ctx); err != nil {
		g := inv.Grafana
		ref, what, who := g.Password, "password", fmt.Sprintf("user %q with this password", g.User)
		if g.Token.IsSet() {
			ref, what, who = g.Token, "token", "this token"
		}
		switch {
		case grafana.IsUnauthorized(err):
			errs = append(errs, ref.Err(fmt.Sprintf("Grafana at %s refused %s (%v)", g.URL, who, err),
				fmt.Sprintf("put the right %s in %s; no host was contacted", what, ref)))
		case grafana.IsForbidden(err):
			errs = append(errs, ref.Err(fmt.Sprintf("Grafana at %s accepted %s but does not let it read datasources (%v)", g.URL, who, err),
				"use a token or user with the Editor or Admin role of the organisation; no host was contacted"))
		case httpx.IsTLS(err):
			errs = append(errs, tlsErr(inv, "grafana", g.TLS, err))
		default:
			errs = append(errs, inv.Err("grafana.url", fmt.Sprintf("cannot check the credentials at %s: %v", g.URL, err),
				"make Grafana reachable at this URL; no host was contacted"))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	errs.Sort()
	return errs
}

// warnCleartext warns, once per server, when fleetctl would send a server's credentials over plain http to a host
// other than loopback: anyone on the network between them can read the password or token.
func warnCleartext(log *slog.Logger, inv *inventory.Inventory) {
	for _, s := range []struct{ key, url, what string }{
		{"influxdb.url", inv.InfluxDB.URL, "the InfluxDB admin password and the per-host passwords it creates"},
		{"grafana.url", inv.Grafana.URL, "the Grafana credentials and the datasource passwords"},
	} {
		if u, err := url.Parse(s.url); err == nil && httpx.Cleartext(u) {
			log.Warn(fmt.Sprintf("%s: %s is plain http to a host other than loopback: %s cross the network unencrypted; use https", s.key, s.url, s.what),
				"inventory", inv.File)
		}
	}
}

// tlsErr is a server's refused TLS as an inventory error, at the key to fix: its url for a name the certificate
// lacks, its ca_file when one is written, else its url.
func tlsErr(inv *inventory.Inventory, section string, t inventory.TLS, err error) *inventory.Error {
	var te *httpx.TLSError
	errors.As(err, &te)
	key := section + ".url"
	if t.CAFile != "" && !strings.Contains(te.Fix, section+".url") {
		key = section + ".ca_file"
	}
	return inv.Err(key, te.Server+" at "+te.Origin+": "+te.Reason, te.Fix+"; no host was contacted")
}

// clientTLS is a server section's TLS settings as its client takes them.
func clientTLS(section string, t inventory.TLS) httpx.TLS {
	return httpx.TLS{Key: section, CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, InsecureSkipVerify: t.InsecureSkipVerify}
}

// InsecureServers are the notes of the servers whose certificates fleetctl does not verify
// (insecure_skip_verify), one per server: every run warns with them, and every plan carries them.
func InsecureServers(inv *inventory.Inventory) []string {
	var out []string
	for _, s := range []struct {
		key string
		t   inventory.TLS
		url string
	}{{"influxdb", inv.InfluxDB.TLS, inv.InfluxDB.URL}, {"grafana", inv.Grafana.TLS, inv.Grafana.URL}, {"kapacitor", inv.Kapacitor.TLS, inv.Kapacitor.URL}} {
		if s.t.InsecureSkipVerify {
			out = append(out, fmt.Sprintf("%s.insecure_skip_verify is true: the certificate of %s is NOT verified, so anyone on the network path can pose as it and read its credentials; set %s.ca_file instead", s.key, s.url, s.key))
		}
	}
	return out
}

// warnInsecure warns on every run about each server whose certificate is not verified.
func warnInsecure(log *slog.Logger, inv *inventory.Inventory) {
	for _, w := range InsecureServers(inv) {
		log.Warn(w, "inventory", inv.File)
	}
}
