package provision

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/remote"
	"golang.org/x/crypto/ssh"
)

// SSHConfig builds the fleet's SSH settings from the inventory. acceptNew widens the inventory's setting (a flag
// can accept new host keys; it cannot refuse what the inventory accepts). The keyring serves the keys of every
// server of the run (see reach); the returned func releases the agent.
func SSHConfig(inv *inventory.Inventory, acceptNew bool, getenv func(string) string) (remote.Config, *remote.Keyring, func(), error) {
	s := inv.SSH
	sock := ""
	if s.UseAgent {
		sock = getenv("SSH_AUTH_SOCK")
		// Without identity files only an ssh_config file's IdentityFile could give a key.
		_, noConfig := os.Stat(s.ConfigFile)
		// A configured file that is missing is its own, clearer error (reach), whatever the agent.
		if sock == "" && len(s.IdentityFiles) == 0 && (s.ConfigFile == "" || noConfig != nil && !s.ConfigFileSet) {
			return remote.Config{}, nil, nil, fmt.Errorf("ssh.use_agent is set but SSH_AUTH_SOCK is empty: start ssh-agent or set ssh.identity_files in %s", inv.File)
		}
	}
	keyring, closeAgent, err := remote.NewKeyring(sock)
	if err != nil {
		return remote.Config{}, nil, nil, fmt.Errorf("%s: %w", inv.File, err)
	}
	var ids []remote.KeyFile
	for _, f := range s.IdentityFiles {
		ids = append(ids, remote.KeyFile{Path: f, From: "ssh.identity_files in " + inv.File})
	}
	var auth []ssh.AuthMethod
	if len(ids) > 0 || sock != "" {
		if auth, err = keyring.Auth(ids, nil, false); err != nil {
			closeAgent()
			return remote.Config{}, nil, nil, fmt.Errorf("%s: %w", inv.File, err)
		}
	}
	cfg := remote.Config{
		User:           s.User,
		Auth:           auth,
		HostKeys:       &remote.HostKeys{Path: s.KnownHosts, AcceptNew: s.AcceptNewHostKeys || acceptNew},
		ConnectTimeout: s.ConnectTimeout,
		CommandTimeout: s.CommandTimeout,
	}
	if s.SudoPassword.IsSet() {
		if cfg.SudoPassword, err = s.SudoPassword.Resolve(); err != nil {
			closeAgent()
			return remote.Config{}, nil, nil, err
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// With an ssh_config file, its UserKnownHostsFile or StrictHostKeyChecking may serve instead: each host's
	// check says what is missing.
	if _, err := os.Stat(s.KnownHosts); err != nil && !cfg.HostKeys.AcceptNew && s.ConfigFile == "" {
		closeAgent()
		return remote.Config{}, nil, nil, fmt.Errorf("known_hosts file %s: %w (set ssh.known_hosts, or accept new host keys to create it)", s.KnownHosts, err)
	}
	return cfg, keyring, closeAgent, nil
}

// ResolveReach works out, for every host, how to log in to it and through which jump hosts (see reach), and gives
// the run a pool of jump connections. It contacts nothing: a ProxyJump loop, a bad ssh_config or a host without a
// user fails here, before any host is touched.
func ResolveReach(inv *inventory.Inventory, hosts []catalog.Host, cfg *remote.Config, keyring *remote.Keyring, acceptNew bool, getenv func(string) string, log *slog.Logger) error {
	r, err := newReach(inv, keyring, cfg.HostKeys, acceptNew, getenv, log)
	if err != nil {
		return err
	}
	var errs []error
	for i := range hosts {
		h, ok := inv.Host(hosts[i].Name)
		if !ok {
			continue
		}
		ep, err := r.hostEndpoint(h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hosts[i].Reach = ep
		if len(ep.Via) > 0 && cfg.Jumps == nil {
			cfg.Jumps = remote.NewJumps()
		}
	}
	return errors.Join(errs...)
}
