package ansible

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
)

// Options shape the fleetctl inventory that Convert writes.
type Options struct {
	// User is the login user of hosts without ansible_user: what ssh would use, the local user, unless the caller
	// knows better. Empty: such hosts are an error.
	User string
	// WorkDir resolves relative ansible_ssh_private_key_file paths, as ssh would when Ansible runs there. Empty:
	// the process's working directory.
	WorkDir string
	// Getenv gives HOME for the check that the result loads (os.Getenv when nil).
	Getenv func(string) string
}

// Result is an imported inventory.
type Result struct {
	TOML      []byte   // the fleetctl inventory, with the not-mapped list as comments at its end
	Hosts     int      // hosts written
	Groups    int      // groups written
	NotMapped []string // the not-mapped list, one entry a line, as written in TOML without the comment marks
}

// Import reads the Ansible inventory at path and converts it: Load, then Convert.
func Import(path string, opts Options) (*Result, error) {
	inv, err := Load(path)
	if err != nil {
		return nil, err
	}
	return inv.Convert(opts)
}

// The connection variables fleetctl maps, each list in Ansible's order of precedence: where both are set, the
// last one wins (ansible_ssh_host over ansible_host), as in Ansible's ssh connection plugin.
var (
	addressVars = []string{"ansible_host", "ansible_ssh_host"}
	portVars    = []string{"ansible_port", "ansible_ssh_port"}
	userVars    = []string{"ansible_user", "ansible_ssh_user"}
	keyVars     = []string{"ansible_private_key_file", "ansible_ssh_private_key_file"}
)

func isConnVar(name string) bool {
	return slices.Contains(addressVars, name) || slices.Contains(portVars, name) || slices.Contains(userVars, name) || slices.Contains(keyVars, name)
}

// hostOut is one host as it will be written.
type hostOut struct {
	h       *Host
	address string
	port    int
	user    string
	key     string // "" for none
	groups  []string
}

// Convert maps the inventory to fleetctl's. Hosts keep their names and get their address, port, user and key from
// the connection variables Ansible would use for them (after merging group and host variables with Ansible's
// precedence); each host lists every group it belongs to, directly or through children, broadest first. What has
// no fleetctl equivalent is listed, never with a value, at the end. A host or group name, address, port or user
// that fleetctl would refuse is an error naming the file and line it came from.
func (inv *Inventory) Convert(opts Options) (*Result, error) {
	errs := &errorList{}
	workDir := opts.WorkDir
	if workDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("import Ansible inventory: %w", err)
		}
		workDir = wd
	}
	var groups []*Group
	for _, g := range inv.groups {
		if g.Name == "all" || g.Name == "ungrouped" {
			continue
		}
		groups = append(groups, g)
		if problem, fix := inventory.CheckName(g.Name); problem != "" {
			errs.add(g.Pos, fmt.Sprintf("group %q", g.Name), "rename it in the Ansible inventory (and group_vars): "+strings.TrimPrefix(fix, "use "), "not a valid fleetctl group name: %s", problem)
		}
		if h := inv.byHost[g.Name]; h != nil {
			errs.add(h.Pos, fmt.Sprintf("host %q", h.Name), "rename the host or the group", "is also the name of a group (at %s): fleetctl selects hosts by either, so the two must differ", g.Pos)
		}
	}
	if len(inv.hosts) == 0 {
		errs.add(Pos{inv.Source, 0}, "", "", "no hosts: a fleetctl inventory needs at least one")
	}
	var hosts []hostOut
	byDB, byAddr := map[string]*Host{}, map[string]*Host{}
	for _, h := range inv.hosts {
		out, ok := inv.mapHost(h, opts.User, workDir, errs)
		if !ok {
			continue
		}
		db := inventory.DefaultDatabase(h.Name)
		if prev := byDB[db]; prev != nil {
			errs.add(h.Pos, fmt.Sprintf("host %q", h.Name), "rename one of them in the Ansible inventory", "its InfluxDB database %q would be that of host %q (at %s) too: fleetctl turns \".\" and \"-\" into \"_\"", db, prev.Name, prev.Pos)
		}
		byDB[db] = h
		addr := strings.ToLower(strings.TrimSuffix(out.address, "."))
		if ip, err := netip.ParseAddr(out.address); err == nil {
			addr = ip.String()
		}
		addr = fmt.Sprintf("%s port %d", addr, out.port)
		if prev := byAddr[addr]; prev != nil {
			errs.add(h.Pos, fmt.Sprintf("host %q", h.Name), "keep one of them: each fleetctl host owns the Telegraf configuration of its machine", "connects to %s like host %q (at %s)", addr, prev.Name, prev.Pos)
		}
		byAddr[addr] = h
		hosts = append(hosts, out)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	notes := inv.notMapped()
	w := &writer{}
	w.write(inv, groups, hosts, notes)
	res := &Result{TOML: []byte(w.String()), Hosts: len(hosts), Groups: len(groups)}
	for _, n := range notes {
		res.NotMapped = append(res.NotMapped, n.String())
	}
	// The result must load: a refusal here is a bug of the import, not of the user's inventory.
	if _, err := inventory.Parse("imported inventory", res.TOML, workDir, opts.Getenv); err != nil {
		return nil, fmt.Errorf("import Ansible inventory: the result does not load, which is a bug in import-ansible: %w", err)
	}
	return res, nil
}

// connVar returns the variable among names that Ansible would use: the last one set to a non-null value.
func connVar(eff map[string]Var, names []string) (Var, bool) {
	var out Var
	found := false
	for _, n := range names {
		if v, ok := eff[n]; ok && v.Value.V != nil {
			out, found = v, true
		}
	}
	return out, found
}

func (inv *Inventory) mapHost(h *Host, defaultUser, workDir string, errs *errorList) (hostOut, bool) {
	n := errs.n
	key := fmt.Sprintf("host %q", h.Name)
	badName := false
	if problem, fix := inventory.CheckName(h.Name); problem != "" {
		badName = true
		errs.add(h.Pos, key, "rename it in the Ansible inventory (and host_vars), setting ansible_host if the name was its address: "+strings.TrimPrefix(fix, "use "), "not a valid fleetctl host name: %s", problem)
	}
	eff := inv.effective(h)
	out := hostOut{h: h, address: h.Name, port: 22, user: defaultUser}
	if v, ok := connVar(eff, addressVars); ok {
		if s, ok := connString(v, h, errs); ok {
			out.address = s
			if problem, fix := inventory.CheckAddress(s); problem != "" {
				errs.add(v.Pos, varKey(v, h), fix, "%q: %s", s, problem)
			}
		}
	} else if problem, _ := inventory.CheckAddress(h.Name); problem != "" && !badName {
		errs.add(h.Pos, key, "set ansible_host to its IP address or DNS name", "has no ansible_host and its name is no address: %s", problem)
	}
	if v, ok := connVar(eff, portVars); ok {
		port, good := 0, false
		switch x := v.Value.V.(type) {
		case int64:
			port, good = int(x), x >= 1 && x <= 65535
		case string:
			p, err := strconv.Atoi(strings.TrimSpace(x))
			port, good = p, err == nil && p >= 1 && p <= 65535
		}
		if !good || v.Value.Vault {
			errs.add(v.Pos, varKey(v, h), "write a port between 1 and 65535", "%s is not a TCP port", describe(v.Value))
		}
		out.port = port
	}
	if v, ok := connVar(eff, userVars); ok {
		if s, ok := connString(v, h, errs); ok {
			out.user = s
			if !inventory.ValidUser(s) {
				errs.add(v.Pos, varKey(v, h), `use letters, digits, ".", "_" and "-"`+iniCommentHint(v, s), "%q is not a valid user name for fleetctl", s)
			}
		}
	} else if defaultUser == "" {
		errs.add(h.Pos, key, "set ansible_user in the Ansible inventory, or give import-ansible --user NAME", "has no ansible_user and no default user was given")
	} else if !inventory.ValidUser(defaultUser) {
		errs.add(h.Pos, key, "give --user NAME with a valid login name", "has no ansible_user and the default user %q is not a valid user name", defaultUser)
	}
	if v, ok := connVar(eff, keyVars); ok {
		if s, ok := connString(v, h, errs); ok {
			switch {
			case s == "":
				errs.add(v.Pos, varKey(v, h), "remove it, or name the key file", "empty key file path")
			case s == "~" || strings.HasPrefix(s, "~/") || filepath.IsAbs(s):
				out.key = s
			case strings.HasPrefix(s, "~"):
				errs.add(v.Pos, varKey(v, h), "write the path from / or from your own home (~/...)", "%q: another user's home (~user) is not supported", s)
			default:
				out.key = filepath.Join(workDir, s)
			}
		}
	}
	for _, g := range inv.groupsOf(h) {
		if g.Name != "ungrouped" {
			out.groups = append(out.groups, g.Name)
		}
	}
	return out, errs.n == n
}

// varKey names a variable in a message.
func varKey(v Var, _ *Host) string { return v.Owner + ": " + v.Name }

// iniCommentHint explains a value that swallowed a comment: in [NAME:vars], Ansible keeps "# ..." in the value.
func iniCommentHint(v Var, s string) string {
	if strings.Contains(s, "#") {
		return `; in an INI [NAME:vars] section everything after "=" is the value, a "# comment" too: move the comment to its own line`
	}
	return ""
}

// connString is a mapped variable's value, which must be a plain string: not encrypted, not a template.
func connString(v Var, h *Host, errs *errorList) (string, bool) {
	key := varKey(v, h)
	if v.Value.Vault {
		errs.add(v.Pos, key, "write the value in clear: it is not a secret", "is encrypted with ansible-vault, and import-ansible reads no secrets")
		return "", false
	}
	s, ok := v.Value.V.(string)
	if !ok {
		errs.add(v.Pos, key, "quote it", "%s is not a string", describe(v.Value))
		return "", false
	}
	if strings.Contains(s, "{{") || strings.Contains(s, "{%") {
		errs.add(v.Pos, key, "write the value it stands for", "%q is a Jinja2 template, and import-ansible does not evaluate templates", s)
		return "", false
	}
	return s, true
}

func describe(v Value) string {
	switch x := v.V.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case string:
		if v.Vault {
			return "an encrypted value"
		}
		return strconv.Quote(x)
	case Other:
		return x.Kind
	}
	return "a value"
}

var (
	becomePasswords = []string{"ansible_become_password", "ansible_become_pass", "ansible_sudo_password", "ansible_sudo_pass"}
	loginPasswords  = []string{"ansible_password", "ansible_ssh_pass", "ansible_ssh_password"}
	sshOptions      = []string{"ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args", "ansible_scp_extra_args", "ansible_sftp_extra_args", "ansible_ssh_executable"}
	secretish       = regexp.MustCompile(`(?i)pass|secret|token|vault|credential|private|(^|_)key($|_)|api_?key|cert`)
	plainWord       = regexp.MustCompile(`^[a-z0-9_.]+$`)
)

// notMapped lists, in file order, every variable definition that did not make it into the fleetctl inventory and
// every file that was not read.
func (inv *Inventory) notMapped() []Note {
	type site struct {
		pos  Pos
		name string
	}
	seen := map[site]bool{}
	var out []Note
	add := func(v Var, emptyGroup bool) {
		s := site{v.Pos, v.Name}
		if seen[s] {
			return
		}
		seen[s] = true
		reason := classify(v, emptyGroup)
		if reason == "" {
			return
		}
		out = append(out, Note{v.Pos, fmt.Sprintf("%s: %s: %s", v.Owner, v.Name, reason)})
	}
	for _, g := range inv.groups {
		empty := len(g.allHosts()) == 0
		for _, m := range []map[string]Var{g.Vars, g.FileVars} {
			for _, v := range m {
				add(v, empty)
			}
		}
	}
	for _, h := range inv.hosts {
		for _, m := range []map[string]Var{h.Vars, h.FileVars} {
			for _, v := range m {
				add(v, false)
			}
		}
	}
	out = append(out, inv.unread...)
	slices.SortStableFunc(out, func(a, b Note) int { return cmp.Or(a.Pos.compare(b.Pos), cmp.Compare(a.Text, b.Text)) })
	return out
}

func (n Note) String() string { return n.Pos.String() + ": " + n.Text }

// classify says why a variable is not mapped, or "" when it is (or needs nothing).
func classify(v Var, emptyGroup bool) string {
	s, _ := v.Value.V.(string)
	switch name := v.Name; {
	case isConnVar(name):
		if emptyGroup {
			return "not mapped (the group has no hosts)"
		}
		return ""
	case name == "ansible_connection":
		switch s {
		case "ssh", "smart", "paramiko", "paramiko_ssh":
			return ""
		}
		what := "this value"
		if plainWord.MatchString(s) {
			what = strconv.Quote(s)
		}
		return fmt.Sprintf("not mapped (fleetctl reaches hosts only over SSH, not with %s)", what)
	case name == "ansible_become":
		return "not needed (fleetctl runs its privileged commands through sudo, always)"
	case name == "ansible_become_method":
		if s == "sudo" {
			return "not needed (fleetctl uses sudo)"
		}
		return "not mapped (fleetctl uses only sudo)"
	case name == "ansible_become_user":
		if s == "root" {
			return "not needed (fleetctl's commands run as root)"
		}
		return "not mapped (fleetctl's commands run as root)"
	case slices.Contains(becomePasswords, name):
		return `not mapped (secret, value omitted); give it to fleetctl as ssh.sudo_password = { env = "SUDO_PASSWORD" }`
	case slices.Contains(loginPasswords, name):
		return "not mapped (secret, value omitted); fleetctl logs in with keys only (ssh.identity_files, the ssh-agent)"
	case slices.Contains(sshOptions, name):
		return "not mapped (fleetctl does not run ssh, so ssh options and ~/.ssh/config, ProxyJump included, do not apply)"
	case name == "ansible_python_interpreter":
		return "not needed (fleetctl needs no Python on the hosts)"
	case name == "ansible_host_key_checking" || name == "ansible_ssh_host_key_checking":
		return "not mapped (fleetctl always checks host keys against ssh.known_hosts; see ssh.accept_new_host_keys)"
	case v.Value.Vault || secretish.MatchString(name):
		return "not mapped (secret, value omitted)"
	default:
		return "not mapped (no fleetctl equivalent)"
	}
}
