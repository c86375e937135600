package ansible

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

type writer struct{ strings.Builder }

func (w *writer) line(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(s string) string {
	if bareKey.MatchString(s) {
		return s
	}
	return quote(s)
}

// mostCommon returns the value most hosts share (the first seen among equals).
func mostCommon[T comparable](hosts []hostOut, get func(hostOut) T) T {
	count := map[T]int{}
	var best T
	for _, h := range hosts {
		v := get(h)
		count[v]++
		if count[v] > count[best] {
			best = v
		}
	}
	return best
}

func (w *writer) write(inv *Inventory, groups []*Group, hosts []hostOut, notes []Note) {
	w.line("# fleetctl inventory imported from the Ansible inventory %s by `fleetctl import-ansible`.", inv.Source)
	w.line("# Fill in the server URLs and the secrets' sources (environment variables or files; see inventory/FORMAT.md),")
	w.line("# then check it with `fleetctl validate -i FILE`. What could not be mapped is listed at the end.")
	w.line("")
	w.line("[influxdb]")
	w.line(`url = "http://influxdb.example.com:8086"           # change: your InfluxDB 1.x`)
	w.line(`admin_user = "admin"                               # change: an InfluxDB admin`)
	w.line(`admin_password = { env = "INFLUXDB_ADMIN_PASSWORD" }`)
	w.line("")
	w.line("[grafana]")
	w.line(`url = "http://grafana.example.com:3000"            # change: your Grafana`)
	w.line(`token = { env = "GRAFANA_TOKEN" }                  # a service-account token`)
	w.line("")
	w.line("[kapacitor]")
	w.line(`url = "http://kapacitor.example.com:9092"          # change: your Kapacitor`)
	w.line("")
	w.line("[secrets]")
	w.line(`master = { env = "FLEETCTL_MASTER_SECRET" }        # every per-host InfluxDB password is derived from it`)
	w.line("")

	user := mostCommon(hosts, func(h hostOut) string { return h.user })
	port := mostCommon(hosts, func(h hostOut) int { return h.port })
	var keys []string
	for _, h := range hosts {
		if h.key != "" && !slices.Contains(keys, h.key) {
			keys = append(keys, h.key)
		}
	}
	w.line("[ssh]")
	w.line("user = %s", quote(user))
	if port != 22 {
		w.line("port = %d", port)
	}
	if len(keys) > 0 {
		w.line("# From ansible_ssh_private_key_file. fleetctl offers every key to every host (and the ssh-agent's keys).")
		qs := make([]string, len(keys))
		for i, k := range keys {
			qs[i] = quote(k)
		}
		w.line("identity_files = [%s]", strings.Join(qs, ", "))
	}
	for _, n := range notes {
		if strings.Contains(n.Text, "ssh.sudo_password") {
			w.line(`# sudo_password = { env = "SUDO_PASSWORD" }       # Ansible had a become password: see the end`)
			break
		}
	}
	w.line("")

	if len(groups) > 0 {
		w.line("# Ansible's groups. fleetctl groups do not nest: each host below lists every group it is in, directly or")
		w.line("# through children, broadest first (the order Ansible merges group variables in), so selecting a group")
		w.line("# selects the hosts of its children too. Ansible's all and ungrouped are every host and hosts with no group.")
		for _, g := range groups {
			if len(g.children) > 0 {
				names := make([]string, len(g.children))
				for i, c := range g.children {
					names[i] = c.Name
				}
				w.line("[groups.%s]  # with its children %s", tomlKey(g.Name), strings.Join(names, ", "))
			} else {
				w.line("[groups.%s]", tomlKey(g.Name))
			}
		}
		w.line("")
	}

	for _, h := range hosts {
		w.line("# %s", h.h.Pos)
		w.line("[[hosts]]")
		w.line("name = %s", quote(h.h.Name))
		w.line("address = %s", quote(h.address))
		if h.port != port {
			w.line("port = %d", h.port)
		}
		if h.user != user {
			w.line("user = %s", quote(h.user))
		}
		if len(h.groups) > 0 {
			qs := make([]string, len(h.groups))
			for i, g := range h.groups {
				qs[i] = quote(g)
			}
			w.line("groups = [%s]", strings.Join(qs, ", "))
		}
		w.line("")
	}

	if len(notes) == 0 {
		w.line("# Everything in the Ansible inventory was mapped.")
		return
	}
	w.line("# Not mapped from the Ansible inventory (no value is shown; nothing of these is in the inventory above):")
	for _, n := range notes {
		w.line("#   %s", strings.ReplaceAll(n.String(), "\n", " "))
	}
}
