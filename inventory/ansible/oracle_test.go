package ansible

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/inventory"
)

// TestAgainstAnsible imports every inventory under testdata/oracle and checks the result against what Debian's
// ansible-inventory --list says about the same inventory: the same hosts, each in the same groups (transitively),
// with the same address, port, user and key as Ansible would connect with; the same groups; and every variable
// Ansible gives a host that fleetctl has no place for named in the not-mapped list.
//
// ansible-inventory comes from Debian's ansible-core package (test/testbed/up installs it). A missing
// ansible-inventory fails the test.
func TestAgainstAnsible(t *testing.T) {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		// No skip: a test that skips for a missing tool could pass CI without running.
		t.Fatalf("ansible-inventory not found (%v): install Debian's ansible-core (test/testbed/up does)", err)
	}
	cases, err := filepath.Glob("testdata/oracle/*/inv*")
	if err != nil || len(cases) < 4 {
		t.Fatalf("expected at least four oracle inventories, found %v (%v)", cases, err)
	}
	for _, src := range cases {
		t.Run(filepath.Base(filepath.Dir(src)), func(t *testing.T) {
			want := ansibleList(t, bin, src)
			abs, err := filepath.Abs(filepath.Dir(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Import(src, Options{User: "tester", WorkDir: abs, Getenv: testEnv})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			got, err := inventory.Parse("imported.toml", res.TOML, abs, testEnv)
			if err != nil {
				t.Fatalf("the imported inventory does not load: %v\n%s", err, res.TOML)
			}
			compare(t, want, got, res, abs)
		})
	}
}

func testEnv(k string) string {
	if k == "HOME" {
		return "/home/tester"
	}
	return ""
}

// listed is what ansible-inventory --list prints.
type listed struct {
	hostvars map[string]map[string]any
	groups   map[string]struct{ hosts, children []string }
}

func ansibleList(t *testing.T, bin, src string) listed {
	t.Helper()
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	// An empty ansible.cfg and a clean working directory: no configuration or playbook-adjacent vars of this
	// machine take part.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ansible.cfg")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-i", abs, "--list")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+cfg, "ANSIBLE_HOME="+dir, "ANSIBLE_LOCAL_TEMP="+dir, "ANSIBLE_NOCOLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible-inventory -i %s --list: %v\n%s", src, err, stderr.String())
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatalf("ansible-inventory output: %v\n%s", err, stdout.String())
	}
	out := listed{groups: map[string]struct{ hosts, children []string }{}}
	for k, v := range raw {
		if k == "_meta" {
			var meta struct {
				Hostvars map[string]map[string]any `json:"hostvars"`
			}
			if err := json.Unmarshal(v, &meta); err != nil {
				t.Fatal(err)
			}
			out.hostvars = meta.Hostvars
			continue
		}
		var g struct {
			Hosts    []string `json:"hosts"`
			Children []string `json:"children"`
		}
		if err := json.Unmarshal(v, &g); err != nil {
			t.Fatal(err)
		}
		out.groups[k] = struct{ hosts, children []string }{g.Hosts, g.Children}
	}
	return out
}

// membership returns, per host, every group it is in through the tree under all, except all and ungrouped.
func (l listed) membership() map[string][]string {
	out := map[string][]string{}
	var walk func(g string, path []string)
	walk = func(g string, path []string) {
		if g != "all" && g != "ungrouped" {
			path = append(slices.Clone(path), g)
		}
		for _, h := range l.groups[g].hosts {
			for _, p := range path {
				if !slices.Contains(out[h], p) {
					out[h] = append(out[h], p)
				}
			}
			if _, ok := out[h]; !ok {
				out[h] = nil
			}
		}
		for _, c := range l.groups[g].children {
			walk(c, path)
		}
	}
	walk("all", nil)
	for h := range out {
		sort.Strings(out[h])
	}
	return out
}

// conn is Ansible's connection value for a host: the last of names set to something other than null (the
// order of the ssh connection plugin's vars, spelled out in the test rather than taken from the code under test).
func conn(vars map[string]any, names ...string) (any, bool) {
	var v any
	found := false
	for _, n := range names {
		if x, ok := vars[n]; ok && x != nil {
			v, found = x, true
		}
	}
	return v, found
}

func compare(t *testing.T, want listed, got *inventory.Inventory, res *Result, dir string) {
	t.Helper()
	members := want.membership()
	var wantHosts, gotHosts []string
	for h := range members {
		wantHosts = append(wantHosts, h)
	}
	for _, h := range got.Hosts() {
		gotHosts = append(gotHosts, h.Name)
	}
	sort.Strings(wantHosts)
	sort.Strings(gotHosts)
	if !slices.Equal(wantHosts, gotHosts) {
		t.Fatalf("hosts:\n ansible: %v\n import:  %v", wantHosts, gotHosts)
	}
	var wantGroups []string
	for g := range want.groups {
		if g != "all" && g != "ungrouped" {
			wantGroups = append(wantGroups, g)
		}
	}
	sort.Strings(wantGroups)
	if gg := got.Groups(); !slices.Equal(wantGroups, gg) {
		t.Errorf("groups:\n ansible: %v\n import:  %v", wantGroups, gg)
	}
	notMapped := strings.Join(res.NotMapped, "\n")
	for _, h := range got.Hosts() {
		vars := want.hostvars[h.Name]
		groups := slices.Sorted(slices.Values(h.Groups))
		if !slices.Equal(groups, members[h.Name]) {
			t.Errorf("%s: groups: ansible %v, import %v", h.Name, members[h.Name], groups)
		}
		addr := h.Name
		if v, ok := conn(vars, "ansible_host", "ansible_ssh_host"); ok {
			addr = fmt.Sprint(v)
		}
		if h.Address != addr {
			t.Errorf("%s: address: ansible %q, import %q", h.Name, addr, h.Address)
		}
		port := 22
		if v, ok := conn(vars, "ansible_port", "ansible_ssh_port"); ok {
			switch x := v.(type) {
			case float64:
				port = int(x)
			case string:
				port, _ = strconv.Atoi(x)
			}
		}
		if h.Port != port {
			t.Errorf("%s: port: ansible %d, import %d", h.Name, port, h.Port)
		}
		user := "tester"
		if v, ok := conn(vars, "ansible_user", "ansible_ssh_user"); ok {
			user = fmt.Sprint(v)
		}
		if h.User != user {
			t.Errorf("%s: user: ansible %q, import %q", h.Name, user, h.User)
		}
		if v, ok := conn(vars, "ansible_private_key_file", "ansible_ssh_private_key_file"); ok {
			key := fmt.Sprint(v)
			switch {
			case strings.HasPrefix(key, "~/"):
				key = filepath.Join("/home/tester", key[2:])
			case !filepath.IsAbs(key):
				key = filepath.Join(dir, key)
			}
			if !slices.Contains(got.SSH.IdentityFiles, key) {
				t.Errorf("%s: key %s is not among ssh.identity_files %v", h.Name, key, got.SSH.IdentityFiles)
			}
		}
		// Nothing silently dropped: each variable Ansible gives the host is mapped or in the not-mapped list.
		for k, v := range vars {
			if isConnVar(k) || k == "ansible_connection" && v == "ssh" {
				continue
			}
			if !strings.Contains(notMapped, ": "+k+": not ") {
				t.Errorf("%s: variable %s is neither mapped nor in the not-mapped list:\n%s", h.Name, k, notMapped)
			}
		}
	}
	// No secret value reaches the output.
	for _, vars := range want.hostvars {
		for k, v := range vars {
			if s, ok := v.(string); ok && strings.Contains(k, "pass") && s != "" && bytes.Contains(res.TOML, []byte(s)) {
				t.Errorf("the value of %s is in the output", k)
			}
		}
	}
}
