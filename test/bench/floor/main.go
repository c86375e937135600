// Command floor is the benchmark's floor: the least any tool must do. By default, the floor for a no-op plan: the
// least any tool must do to learn that a host is onboarded. For every host (forks at a time) it opens one SSH connection, runs one sudo command that reads the
// state fleetctl reads (os-release, the apt source and key, the agent's three files with mode and owner, the
// config folder, the package, the service), then reads the servers: InfluxDB (databases, users and both users'
// grants in one query), Grafana (the datasource and the dashboard by uid) and Kapacitor (the host's tasks and the
// handlers of its alert topic). It also checks
// what it read, so it doubles as the benchmark's proof that a fleet is converged.
//
//	floor -testbed testbed.json -forks 10 c1-debian12 c2-debian11 ...
//
// Prints one JSON object: wall time, SSH connections and sessions, HTTP requests, and per host what is missing.
//
// With -onboard INVENTORY it is instead the floor for onboarding fresh hosts (see onboard):
//
//	floor -onboard inventory.toml -forks 10 c1-debian12 c2-debian11 ...
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

type bed struct {
	InfluxDB struct {
		URL           string `json:"url"`
		AdminUser     string `json:"admin_user"`
		AdminPassword string `json:"admin_password"`
	} `json:"influxdb"`
	Grafana struct {
		URL           string `json:"url"`
		AdminUser     string `json:"admin_user"`
		AdminPassword string `json:"admin_password"`
	} `json:"grafana"`
	Kapacitor struct {
		URL string `json:"url"`
	} `json:"kapacitor"`
	SSH struct {
		User       string `json:"user"`
		ClientKey  string `json:"client_key"`
		KnownHosts string `json:"known_hosts"`
	} `json:"ssh"`
	Hosts []struct {
		Name    string `json:"name"`
		Address string `json:"address"`
		Port    int    `json:"port"`
	} `json:"hosts"`
}

// readScript reads, as root, what fleetctl reads from an apt host: one marked section per item.
const readScript = `m() { printf '\n::floor:: %s\n' "$*"; }
m os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release
for f in /etc/apt/keyrings/influxdata-archive.gpg /etc/apt/sources.list.d/influxdata.list /etc/telegraf/telegraf.conf \
	/etc/telegraf/telegraf.d/fleetctl-outputs.conf /etc/telegraf/telegraf.d/fleetctl-inputs.conf; do
	m file "$f"; if [ -f "$f" ]; then stat -c '%a %U %G' "$f" && base64 -w0 "$f"; fi
done
m dir; ls -1A /etc/telegraf/telegraf.d 2>/dev/null
m pkg; dpkg-query -W -f='${db:Status-Status} ${Version}' telegraf 2>/dev/null
m svc; echo "$(systemctl is-enabled telegraf 2>/dev/null) $(systemctl is-active telegraf 2>/dev/null)"
m end
`

type result struct {
	Host    string   `json:"host"`
	Missing []string `json:"missing,omitempty"`
	Error   string   `json:"error,omitempty"`
}

type counters struct{ conns, sessions, requests atomic.Int64 }

func main() {
	tbPath := flag.String("testbed", "", "the bed's testbed.json")
	forks := flag.Int("forks", 10, "hosts in flight")
	alerts := flag.Int("alerts", 6, "Kapacitor tasks each host must have")
	onboardInv := flag.String("onboard", "", "onboard the hosts of this fleetctl inventory instead of reading them")
	flag.Parse()
	if *onboardInv != "" && flag.NArg() > 0 {
		onboard(*onboardInv, *forks, flag.Args())
		return
	}
	if *tbPath == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: floor -testbed testbed.json [-forks N] HOST...")
		os.Exit(64)
	}
	var b bed
	raw, err := os.ReadFile(*tbPath)
	check(err)
	check(json.Unmarshal(raw, &b))
	keyPEM, err := os.ReadFile(b.SSH.ClientKey)
	check(err)
	signer, err := ssh.ParsePrivateKey(keyPEM)
	check(err)
	hk, err := knownhosts.New(b.SSH.KnownHosts)
	check(err)
	cfg := &ssh.ClientConfig{User: b.SSH.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk,
		Timeout: 10 * time.Second}
	addr := map[string]string{}
	for _, h := range b.Hosts {
		addr[h.Name] = net.JoinHostPort(h.Address, fmt.Sprint(h.Port))
	}
	hc := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *forks, IdleConnTimeout: 30 * time.Second}}

	var n counters
	results := make([]result, flag.NArg())
	sem := make(chan struct{}, *forks)
	var wg sync.WaitGroup
	start := time.Now()
	for i, name := range flag.Args() {
		a, ok := addr[name]
		if !ok {
			results[i] = result{Host: name, Error: "not in the bed"}
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = readHost(&b, hc, cfg, &n, name, a, *alerts)
		}()
	}
	wg.Wait()
	wall := time.Since(start)

	converged, failed := 0, 0
	for _, r := range results {
		switch {
		case r.Error != "":
			failed++
		case len(r.Missing) == 0:
			converged++
		}
	}
	hosts := len(results)
	out := map[string]any{
		"hosts": hosts, "forks": *forks, "wall_ns": wall.Nanoseconds(), "wall_s": wall.Seconds(),
		"ssh_connections": n.conns.Load(), "ssh_sessions": n.sessions.Load(), "http_requests": n.requests.Load(),
		"ssh_sessions_per_host":  float64(n.sessions.Load()) / float64(hosts),
		"http_requests_per_host": float64(n.requests.Load()) / float64(hosts),
		"converged":              converged, "failed": failed,
	}
	var bad []result
	for _, r := range results {
		if r.Error != "" || len(r.Missing) > 0 {
			bad = append(bad, r)
		}
	}
	out["not_converged"] = bad
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	check(enc.Encode(out))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func readHost(b *bed, hc *http.Client, cfg *ssh.ClientConfig, n *counters, name, addr string, alerts int) result {
	r := result{Host: name}
	fail := func(err error) result { r.Error = err.Error(); return r }
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	n.conns.Add(1)
	s, err := c.NewSession()
	if err != nil {
		return fail(err)
	}
	n.sessions.Add(1)
	out, err := s.Output("sudo -n -- sh -c '" + strings.ReplaceAll(readScript, "'", `'\''`) + "'")
	s.Close()
	if err != nil {
		return fail(fmt.Errorf("read state: %w", err))
	}
	r.Missing = append(r.Missing, checkHost(name, string(out))...)

	db := regexp.MustCompile(`[.-]`).ReplaceAllString(name, "_")
	w, rd := db+"_telegraf", db+"_grafana"
	q := url.Values{"q": {fmt.Sprintf(`SHOW DATABASES; SHOW USERS; SHOW GRANTS FOR "%s"; SHOW GRANTS FOR "%s"`, w, rd)}}
	var influx struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := getJSON(hc, n, b.InfluxDB.URL+"/query?"+q.Encode(), b.InfluxDB.AdminUser, b.InfluxDB.AdminPassword, &influx); err != nil {
		return fail(err)
	}
	r.Missing = append(r.Missing, checkInflux(db, w, rd, influx.Results)...)

	var ds struct {
		UID string `json:"uid"`
	}
	err = getJSON(hc, n, b.Grafana.URL+"/api/datasources/uid/fleetctl-"+name, b.Grafana.AdminUser, b.Grafana.AdminPassword, &ds)
	switch {
	case errors.Is(err, errNotFound):
		r.Missing = append(r.Missing, "grafana datasource")
	case err != nil:
		return fail(err)
	}

	// The host's dashboard, by the same uid as its datasource.
	var dash struct {
		Dashboard struct {
			UID string `json:"uid"`
		} `json:"dashboard"`
	}
	err = getJSON(hc, n, b.Grafana.URL+"/api/dashboards/uid/fleetctl-"+name, b.Grafana.AdminUser, b.Grafana.AdminPassword, &dash)
	switch {
	case errors.Is(err, errNotFound):
		r.Missing = append(r.Missing, "grafana dashboard")
	case err != nil:
		return fail(err)
	}

	// The handlers of the host's alert topic: a tool must know none is there that its routes do not make.
	var handlers struct {
		Handlers []struct {
			ID string `json:"id"`
		} `json:"handlers"`
	}
	err = getJSON(hc, n, b.Kapacitor.URL+"/kapacitor/v1/alerts/topics/fleetctl-"+url.PathEscape(name)+"/handlers", "", "", &handlers)
	if err != nil && !errors.Is(err, errNotFound) {
		return fail(err)
	}

	var tasks struct {
		Tasks []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"tasks"`
	}
	if err := getJSON(hc, n, b.Kapacitor.URL+"/kapacitor/v1/tasks?fields=status&pattern="+url.QueryEscape(name+"-*"), "", "", &tasks); err != nil {
		return fail(err)
	}
	enabled := 0
	for _, t := range tasks.Tasks {
		if t.Status == "enabled" {
			enabled++
		}
	}
	if enabled < alerts {
		r.Missing = append(r.Missing, fmt.Sprintf("kapacitor tasks: %d enabled of %d", enabled, alerts))
	}
	return r
}

var errNotFound = errors.New("not found")

func getJSON(hc *http.Client, n *counters, u, user, pass string, v any) error {
	body, status, err := request(hc, n, http.MethodGet, u, user, pass, "", nil)
	switch {
	case err != nil:
		return err
	case status == http.StatusNotFound:
		return errNotFound
	case status != http.StatusOK:
		return fmt.Errorf("GET %s: HTTP %d", u, status)
	}
	return json.Unmarshal(body, v)
}

// request sends one request (basic auth when user is set) and returns the answer's body and status.
func request(hc *http.Client, n *counters, method, u, user, pass, contentType string, body []byte) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, rd)
	if err != nil {
		return nil, 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	n.requests.Add(1)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return data, resp.StatusCode, err
}

// checkHost parses the read script's output and lists what an onboarded host lacks.
func checkHost(name, out string) []string {
	sections := map[string]string{}
	var key string
	var body strings.Builder
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "::floor:: "); ok {
			if key != "" {
				sections[key] = strings.TrimSpace(body.String())
			}
			key, body = rest, strings.Builder{}
			continue
		}
		body.WriteString(line + "\n")
	}
	var missing []string
	if !strings.Contains(sections["os-release"], "ID=debian") {
		missing = append(missing, "not a Debian host")
	}
	for f, want := range map[string]string{
		"/etc/apt/keyrings/influxdata-archive.gpg":       "644 root root",
		"/etc/apt/sources.list.d/influxdata.list":        "644 root root",
		"/etc/telegraf/telegraf.conf":                    "644 root root",
		"/etc/telegraf/telegraf.d/fleetctl-outputs.conf": "640 root telegraf",
		"/etc/telegraf/telegraf.d/fleetctl-inputs.conf":  "644 root root",
	} {
		meta, content, _ := strings.Cut(sections["file "+f], "\n")
		if meta != want {
			missing = append(missing, fmt.Sprintf("%s: %q, want %q", f, meta, want))
			continue
		}
		if f == "/etc/telegraf/telegraf.conf" {
			text, err := base64.StdEncoding.DecodeString(content)
			if err != nil || !strings.Contains(string(text), `hostname = "`+name+`"`) {
				missing = append(missing, f+": no agent hostname "+name)
			}
		}
	}
	if !strings.HasPrefix(sections["pkg"], "installed ") {
		missing = append(missing, "telegraf package: "+sections["pkg"])
	}
	if sections["svc"] != "enabled active" {
		missing = append(missing, "telegraf service: "+sections["svc"])
	}
	return missing
}

func checkInflux(db, w, r string, res []struct {
	Series []struct {
		Values [][]any `json:"values"`
	} `json:"series"`
	Error string `json:"error"`
}) []string {
	if len(res) != 4 {
		return []string{fmt.Sprintf("influxdb: %d results, want 4", len(res))}
	}
	col := func(i, c int) []string {
		var s []string
		for _, se := range res[i].Series {
			for _, v := range se.Values {
				if c < len(v) {
					s = append(s, fmt.Sprint(v[c]))
				}
			}
		}
		sort.Strings(s)
		return s
	}
	var missing []string
	has := func(list []string, x string) bool {
		i := sort.SearchStrings(list, x)
		return i < len(list) && list[i] == x
	}
	if !has(col(0, 0), db) {
		missing = append(missing, "influxdb database "+db)
	}
	users := col(1, 0)
	for _, u := range []string{w, r} {
		if !has(users, u) {
			missing = append(missing, "influxdb user "+u)
		}
	}
	grant := func(i int, want string, u string) {
		for _, se := range res[i].Series {
			for _, v := range se.Values {
				if len(v) == 2 && fmt.Sprint(v[0]) == db && fmt.Sprint(v[1]) == want {
					return
				}
			}
		}
		missing = append(missing, fmt.Sprintf("influxdb grant %s on %s to %s", want, db, u))
	}
	grant(2, "WRITE", w)
	grant(3, "READ", r)
	return missing
}
