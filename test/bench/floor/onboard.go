package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// onboardHost is everything the onboarding floor sends for one host, prepared before the clock starts.
type onboardHost struct {
	name, addr string
	script     string   // the one root command: repository, package, the three files, check, service
	influxQ    string   // the five InfluxQL statements, in one request
	datasource []byte   // the Grafana datasource, JSON
	tasks      [][]byte // the Kapacitor tasks, JSON, created enabled
}

// onboard is the floor for onboarding: the least any tool must do to onboard fresh Debian hosts the way fleetctl
// does. The desired state (files, users, datasource, tasks) is fleetctl's own, rendered from the inventory before
// the clock starts. Then, per host (forks at a time), and with the host's side and the servers' side at the same
// time: one SSH connection and one sudo command that writes the repository key and source, runs apt-get update
// (InfluxData's list only) and install, writes the agent's three files, runs `telegraf config check` and enables
// and starts the service; one InfluxDB request with the database, both users and both grants; one Grafana POST;
// one Kapacitor POST per task. Nothing is read first, nothing is atomic, nothing is checked but exit codes; the
// only restraint is Grafana's: one datasource write at a time (on SQLite it fails concurrent ones).
func onboard(invPath string, forks int, names []string) {
	inv, err := inventory.Load(invPath, os.Getenv)
	check(err)
	selected, err := inv.Select(names)
	check(err)
	specs, err := catalog.FromInventory(inv, nil, selected)
	check(err)
	master, err := inv.Secrets.Master.Resolve()
	check(err)
	adminPass, err := inv.InfluxDB.AdminPassword.Resolve()
	check(err)
	grafanaPass, err := inv.Grafana.Password.Resolve()
	check(err)
	hc := &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: forks, IdleConnTimeout: 30 * time.Second}}
	raw, err := repokey.Fetch(context.Background(), hc, inv.Telegraf.KeyURL)
	check(err)
	key, err := repokey.Verify(raw, inv.Telegraf.KeyFingerprint)
	check(err)
	packs, err := alertpacks.Shipped()
	check(err)
	apt := system.Families()["apt"]
	repoFiles := apt.RepoFiles(system.Repo{AptURL: inv.Telegraf.AptURL, Key: key.Binary})

	hosts := make([]onboardHost, len(specs))
	for i, h := range specs {
		wuser, ruser := catalog.WriteUser(h.Database), catalog.ReadUser(h.Database)
		wpass, rpass := secret.Derive(master, h.Name, catalog.RoleWrite), secret.Derive(master, h.Name, catalog.RoleRead)
		files, err := catalog.TelegrafFiles(apt, h, catalog.AgentOutput{URL: inv.InfluxDB.AgentURL, CA: inv.InfluxDB.AgentCA}, wpass)
		check(err)
		var sc strings.Builder
		sc.WriteString("set -e\numask 022\nmkdir -p /etc/apt/keyrings /etc/telegraf/telegraf.d\n")
		write := func(f system.FileSpec) {
			fmt.Fprintf(&sc, "echo %s | base64 -d > %s\n", base64.StdEncoding.EncodeToString(f.Content), f.Path)
		}
		for _, f := range repoFiles {
			write(f)
		}
		sc.WriteString(apt.Install(inv.Telegraf.Package, inv.Telegraf.Version, system.LockWait))
		for _, f := range files {
			write(f)
			if f.Group != "root" || f.Mode != 0o644 {
				fmt.Fprintf(&sc, "chown %s:%s %s && chmod %o %s\n", f.Owner, f.Group, f.Path, f.Mode, f.Path)
			}
		}
		fmt.Fprintf(&sc, "telegraf config check --config %s --config-directory %s >/dev/null\n", apt.ConfigMain, apt.ConfigDir)
		sc.WriteString("systemctl enable -q --now telegraf\n")

		q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
		influxQ := fmt.Sprintf(`CREATE DATABASE "%s"; CREATE USER "%s" WITH PASSWORD %s; GRANT WRITE ON "%s" TO "%s"; `+
			`CREATE USER "%s" WITH PASSWORD %s; GRANT READ ON "%s" TO "%s"`,
			h.Database, wuser, q(wpass.Reveal()), h.Database, wuser, ruser, q(rpass.Reveal()), h.Database, ruser)
		ds, err := json.Marshal(map[string]any{
			"uid": catalog.DatasourceUID(h.Name), "name": "InfluxDB " + h.Name, "type": "influxdb", "access": "proxy",
			"url": inv.InfluxDB.GrafanaURL, "user": ruser,
			"jsonData":       map[string]any{"dbName": h.Database, "httpMode": "GET", "version": "InfluxQL"},
			"secureJsonData": map[string]any{"password": rpass.Reveal()},
		})
		check(err)
		scripts, err := packs.Render(h.AlertPacks, alertpacks.Target{Host: h.Name, Database: h.Database}, h.Vars,
			alertpacks.Handlers{LogPath: inv.Alerts.Log, Email: inv.Alerts.Email, Webhook: inv.Alerts.Webhook})
		check(err)
		var tasks [][]byte
		for _, s := range scripts {
			t, err := json.Marshal(map[string]any{"id": h.Name + "-" + s.Alert, "type": "stream", "status": "enabled",
				"dbrps": []map[string]string{{"db": h.Database, "rp": inv.InfluxDB.RP()}}, "script": s.Text})
			check(err)
			tasks = append(tasks, t)
		}
		hosts[i] = onboardHost{name: h.Name, addr: net.JoinHostPort(h.Address, fmt.Sprint(h.Port)), script: sc.String(),
			influxQ: influxQ, datasource: ds, tasks: tasks}
	}

	keyPEM, err := os.ReadFile(inv.SSH.IdentityFiles[0])
	check(err)
	signer, err := ssh.ParsePrivateKey(keyPEM)
	check(err)
	hk, err := knownhosts.New(inv.SSH.KnownHosts)
	check(err)
	cfg := &ssh.ClientConfig{User: inv.SSH.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk,
		Timeout: 10 * time.Second}

	var n counters
	// Grafana on SQLite answers concurrent datasource writes with 500 "database is locked": one at a time.
	var grafanaWrites sync.Mutex
	results := make([]result, len(hosts))
	sem := make(chan struct{}, forks)
	var wg sync.WaitGroup
	start := time.Now()
	for i, h := range hosts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var errs []string
			var mu sync.Mutex
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			}
			var side sync.WaitGroup
			side.Add(1)
			go func() { // the servers' side
				defer side.Done()
				post := func(u, user, pass, ctype string, body []byte) error {
					b, status, err := request(hc, &n, http.MethodPost, u, user, pass, ctype, body)
					if err == nil && status/100 != 2 {
						err = fmt.Errorf("POST %s: HTTP %d: %s", u, status, b)
					}
					return err
				}
				form := url.Values{"q": {h.influxQ}}.Encode()
				if err := post(inv.InfluxDB.URL+"/query", inv.InfluxDB.AdminUser, adminPass.Reveal(), "application/x-www-form-urlencoded", []byte(form)); err != nil {
					fail(err)
					return
				}
				grafanaWrites.Lock()
				err := post(inv.Grafana.URL+"/api/datasources", inv.Grafana.User, grafanaPass.Reveal(), "application/json", h.datasource)
				grafanaWrites.Unlock()
				if err != nil {
					fail(err)
				}
				for _, t := range h.tasks {
					if err := post(inv.Kapacitor.URL+"/kapacitor/v1/tasks", "", "", "application/json", t); err != nil {
						fail(err)
						return
					}
				}
			}()
			// The host's side.
			if err := runOnce(cfg, &n, h.addr, h.script); err != nil {
				fail(fmt.Errorf("host: %w", err))
			}
			side.Wait()
			results[i] = result{Host: h.name, Error: strings.Join(errs, "; ")}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	failed := 0
	for _, r := range results {
		if r.Error != "" {
			failed++
		}
	}
	var bad []result
	for _, r := range results {
		if r.Error != "" {
			bad = append(bad, r)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	check(enc.Encode(map[string]any{
		"mode": "onboard", "hosts": len(hosts), "forks": forks, "wall_ns": wall.Nanoseconds(), "wall_s": wall.Seconds(),
		"ssh_connections": n.conns.Load(), "ssh_sessions": n.sessions.Load(), "http_requests": n.requests.Load(),
		"failed": failed, "errors": bad,
	}))
	if failed > 0 {
		os.Exit(1)
	}
}

// runOnce opens one connection and runs script as root in one session.
func runOnce(cfg *ssh.ClientConfig, n *counters, addr, script string) error {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	n.conns.Add(1)
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	n.sessions.Add(1)
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if err := s.Run("sudo -n -- sh -c '" + strings.ReplaceAll(script, "'", `'\''`) + "'"); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
