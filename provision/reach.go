package provision

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/remote"
	"golang.org/x/crypto/ssh"
)

// reach works out how to log in to each host, as OpenSSH would with the inventory's settings given on its command
// line: a value the inventory writes wins; otherwise the value of the ssh_config file (ssh.config_file, by default
// ~/.ssh/config) for the host's address; otherwise the default. Jump hosts (ProxyJump) are worked out the same way,
// each from its own ssh_config entry. Everything is resolved before any host is contacted, so a ProxyJump loop or an
// ssh_config error fails the run before it touches anything.
type reach struct {
	inv       *inventory.Inventory
	cfg       *remote.SSHConfig // nil: no ssh_config
	keyring   *remote.Keyring
	keys      *remote.HostKeys // the inventory's known_hosts and policy; others derive from it
	acceptNew bool             // --accept-new-host-keys
	log       *slog.Logger
	local     map[byte]string // %-tokens about this machine: %u %d %i %l %L
	warned    map[string]bool
	auth      map[string][]ssh.AuthMethod
}

// maxHops bounds a ProxyJump chain, as a chain that long is a loop that a name change hides.
const maxHops = 16

func newReach(inv *inventory.Inventory, keyring *remote.Keyring, keys *remote.HostKeys, acceptNew bool, getenv func(string) string, log *slog.Logger) (*reach, error) {
	r := &reach{inv: inv, keyring: keyring, keys: keys, acceptNew: acceptNew, log: log, warned: map[string]bool{}, auth: map[string][]ssh.AuthMethod{}}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	localUser := getenv("USER")
	if u, err := user.Current(); err == nil && localUser == "" {
		localUser = u.Username
	}
	hostname, _ := os.Hostname()
	short, _, _ := strings.Cut(hostname, ".")
	r.local = map[byte]string{'u': localUser, 'd': home, 'i': strconv.Itoa(os.Getuid()), 'l': short, 'L': short}
	if p := inv.SSH.ConfigFile; p != "" {
		cfg, err := remote.LoadSSHConfig(p, home)
		switch {
		case err == nil:
			r.cfg = cfg
		case remote.IsNotExist(err) && !inv.SSH.ConfigFileSet:
			// ~/.ssh/config is optional, as for ssh.
		case remote.IsNotExist(err):
			return nil, fmt.Errorf("%s: ssh.config_file %s does not exist (fix the path, or write config_file = \"none\")", inv.File, p)
		default:
			return nil, fmt.Errorf("ssh_config (read for ssh.config_file in %s): %w", inv.File, err)
		}
	}
	return r, nil
}

// given is what the inventory (or a ProxyJump hop) says about one server; zero values say nothing.
type given struct {
	user      string
	port      int
	proxyJump string // "" unset, "none" direct
	jumpFrom  string
	noJump    bool // a later hop of a chain: its own ProxyJump does not apply, as in OpenSSH
}

// hostEndpoint resolves one inventory host.
func (r *reach) hostEndpoint(h inventory.Host) (*remote.Endpoint, error) {
	g := given{proxyJump: h.ProxyJump, jumpFrom: h.ProxyJumpFrom}
	if h.UserSet {
		g.user = h.User
	}
	if h.PortSet {
		g.port = h.Port
	}
	ep, err := r.endpoint(h.Name, strings.ToLower(h.Address), g, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: host %s: %w", h.Where(), h.Name, err)
	}
	return &ep, nil
}

// endpoint resolves the server known as alias (what one would type after ssh); stack holds the names being
// resolved on the way here, to find loops.
func (r *reach) endpoint(name, alias string, g given, stack []string) (remote.Endpoint, error) {
	o := r.cfg.Lookup(alias)
	tok := map[byte]string{'n': alias}
	for k, v := range r.local {
		tok[k] = v
	}
	hostname := alias
	if hn, ok := o.Get("HostName"); ok {
		tok['h'] = alias
		v, err := remote.ExpandTokens(hn.Value, map[byte]string{'h': alias})
		if err != nil {
			return remote.Endpoint{}, fmt.Errorf("HostName at %s: %w", hn.Where(), err)
		}
		hostname = v
	}
	tok['h'] = hostname
	port := 22
	if p, ok := o.Get("Port"); ok {
		port, _ = strconv.Atoi(p.Value) // checked when the file was read
	}
	if g.port != 0 {
		port = g.port
	}
	tok['p'] = strconv.Itoa(port)
	usr := r.inv.SSH.User
	if u, ok := o.Get("User"); ok {
		usr = u.Value
	}
	if g.user != "" {
		usr = g.user
	}
	if usr == "" {
		return remote.Endpoint{}, fmt.Errorf("no SSH user for %s: set user on the host or ssh.user in the inventory, or User in a Host block of %s", alias, r.configName())
	}
	tok['r'] = usr
	ep := remote.Endpoint{Name: name, Addr: joinHostPort(hostname, port), User: usr}

	// The route first (a loop is the bigger mistake), then the keys.
	if !g.noJump {
		if err := r.route(&ep, alias, o, g, stack); err != nil {
			return remote.Endpoint{}, err
		}
	}
	keys, err := r.hostKeys(o, tok)
	if err != nil {
		return remote.Endpoint{}, err
	}
	ep.HostKeys = keys
	if ep.Auth, err = r.authFor(o, tok); err != nil {
		return remote.Endpoint{}, err
	}
	return ep, nil
}

// route fills in ep's jump hosts: given's ProxyJump (the inventory's), else ssh_config's for alias.
func (r *reach) route(ep *remote.Endpoint, alias string, o *remote.SSHOptions, g given, stack []string) error {
	jump, from := g.proxyJump, g.jumpFrom
	if jump == "" {
		if pj, ok := o.Get("ProxyJump"); ok {
			jump, from = pj.Value, pj.Where()+" (ProxyJump)"
		} else if pc, ok := o.Get("ProxyCommand"); ok && !strings.EqualFold(pc.Value, "none") {
			return fmt.Errorf("ProxyCommand at %s is not supported: write the jump hosts as ProxyJump (or ssh.proxy_jump in the inventory)", pc.Where())
		}
	}
	if jump == "" {
		return nil
	}
	hops, err := remote.ParseProxyJump(jump)
	if err != nil {
		return fmt.Errorf("ProxyJump %q (from %s): %w", jump, from, err)
	}
	stack = append(stack, alias)
	for i, hop := range hops {
		hopAlias := strings.ToLower(hop.Host)
		if i == 0 {
			for _, s := range stack {
				if s == hopAlias {
					return &loopError{fmt.Sprintf("ProxyJump loop: %s → %s (the jump host %s, from %s, leads back to itself): remove one of the ProxyJump settings",
						strings.Join(stack, " → "), hop.Host, hop, from)}
				}
			}
			if len(stack) > maxHops {
				return fmt.Errorf("ProxyJump chain longer than %d hops through %s (from %s): is it a loop?", maxHops, strings.Join(stack, " → "), from)
			}
		} else if hopAlias == alias {
			return fmt.Errorf("ProxyJump loop: %s is its own jump host (%s, from %s)", alias, jump, from)
		}
		hg := given{user: hop.User, port: hop.Port, noJump: i > 0}
		hep, err := r.endpoint("jump host "+hop.String(), hopAlias, hg, stack)
		if errors.As(err, new(*loopError)) {
			return err // the loop's own message names the whole chain
		}
		if err != nil {
			return fmt.Errorf("jump host %s (from %s): %w", hop, from, err)
		}
		ep.Via = append(ep.Via, hep.Via...)
		hep.Via = nil
		ep.Via = append(ep.Via, hep)
	}
	if len(ep.Via) > maxHops {
		return fmt.Errorf("ProxyJump chain of %d hops (from %s): is it a loop?", len(ep.Via), from)
	}
	return nil
}

// loopError is a ProxyJump chain that leads back to a name already on it.
type loopError struct{ msg string }

func (e *loopError) Error() string { return e.msg }

func (r *reach) configName() string {
	if r.inv.SSH.ConfigFile == "" {
		return "an ssh_config file (ssh.config_file is \"none\")"
	}
	return r.inv.SSH.ConfigFile
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// hostKeys is the verifier for one server: the inventory's known_hosts unless ssh_config names others for it
// (UserKnownHostsFile), and the inventory's policy unless only ssh_config's StrictHostKeyChecking speaks.
func (r *reach) hostKeys(o *remote.SSHOptions, tok map[byte]string) (*remote.HostKeys, error) {
	path, extra := r.inv.SSH.KnownHosts, []string(nil)
	if f, ok := o.Get("UserKnownHostsFile"); ok && !r.inv.SSH.KnownHostsSet {
		var files []string
		for _, p := range strings.Fields(f.Value) {
			v, err := remote.ExpandTokens(p, tok)
			if err != nil {
				return nil, fmt.Errorf("UserKnownHostsFile at %s: %w", f.Where(), err)
			}
			files = append(files, v)
		}
		if len(files) > 0 && files[0] != "none" {
			path, extra = files[0], files[1:]
		}
	}
	acceptNew := r.acceptNew || r.inv.SSH.AcceptNewHostKeys
	if s, ok := o.Get("StrictHostKeyChecking"); ok && !r.inv.SSH.AcceptNewHostKeysSet {
		switch v := strings.ToLower(s.Value); v {
		case "accept-new":
			acceptNew = true
		case "no", "off":
			acceptNew = true
			if !r.warned[s.Where()] {
				r.warned[s.Where()] = true
				r.log.Warn(fmt.Sprintf("%s: StrictHostKeyChecking %s is followed only as far as accept-new: fleetctl records the key of a host not yet known and still refuses a changed key", s.Where(), s.Value))
			}
		}
	}
	if path == r.keys.Path && extra == nil && acceptNew == r.keys.AcceptNew {
		return nil, nil // the fleet's own verifier
	}
	if _, err := os.Stat(path); err != nil && !acceptNew && len(extra) == 0 {
		return nil, fmt.Errorf("known_hosts file %s (UserKnownHostsFile): %w (accept new host keys to create it)", path, err)
	}
	return r.keys.Derive(path, extra, acceptNew), nil
}

// authFor is what to offer one server: the inventory's identity_files, or else ssh_config's IdentityFile for it;
// the certificates beside them and those of CertificateFile; then the agent's keys (only those of the identity
// files with IdentitiesOnly yes).
func (r *reach) authFor(o *remote.SSHOptions, tok map[byte]string) ([]ssh.AuthMethod, error) {
	s := r.inv.SSH
	var ids, certs []remote.KeyFile
	if s.IdentityFilesSet || len(o.All("IdentityFile")) == 0 {
		for _, f := range s.IdentityFiles {
			ids = append(ids, remote.KeyFile{Path: f, From: "ssh.identity_files in " + r.inv.File})
		}
	} else {
		for _, f := range o.All("IdentityFile") {
			p, err := remote.ExpandTokens(f.Value, tok)
			if err != nil {
				return nil, fmt.Errorf("IdentityFile at %s: %w", f.Where(), err)
			}
			if strings.EqualFold(p, "none") {
				continue
			}
			ids = append(ids, remote.KeyFile{Path: p, From: "IdentityFile at " + f.Where(), Optional: true})
		}
	}
	for _, f := range o.All("CertificateFile") {
		p, err := remote.ExpandTokens(f.Value, tok)
		if err != nil {
			return nil, fmt.Errorf("CertificateFile at %s: %w", f.Where(), err)
		}
		certs = append(certs, remote.KeyFile{Path: p, From: "CertificateFile at " + f.Where()})
	}
	only := false
	if v, ok := o.Get("IdentitiesOnly"); ok {
		only = strings.EqualFold(v.Value, "yes")
	}
	key := fmt.Sprint(ids, certs, only)
	if a, ok := r.auth[key]; ok {
		return a, nil
	}
	a, err := r.keyring.Auth(ids, certs, only)
	if err != nil && len(ids) == 0 && s.UseAgent {
		return nil, fmt.Errorf("%w (ssh.use_agent is set: is SSH_AUTH_SOCK set, and does the agent hold a key?)", err)
	}
	if err != nil {
		return nil, err
	}
	r.auth[key] = a
	return a, nil
}
