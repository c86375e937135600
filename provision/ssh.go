package provision

import (
	"fmt"
	"os"
	"time"

	"github.com/fleetctl/fleetctl/inventory"
	"github.com/fleetctl/fleetctl/provision/remote"
)

// SSHConfig builds the fleet's SSH settings from the inventory. acceptNew widens the inventory's setting (a flag
// can accept new host keys; it cannot refuse what the inventory accepts). The returned func releases the agent.
func SSHConfig(inv *inventory.Inventory, acceptNew bool, getenv func(string) string) (remote.Config, func(), error) {
	s := inv.SSH
	sock := ""
	if s.UseAgent {
		sock = getenv("SSH_AUTH_SOCK")
		if sock == "" && len(s.IdentityFiles) == 0 {
			return remote.Config{}, nil, fmt.Errorf("ssh.use_agent is set but SSH_AUTH_SOCK is empty: start ssh-agent or set ssh.identity_files in %s", inv.File)
		}
	}
	auth, closeAgent, err := remote.AuthFromKeys(s.IdentityFiles, sock)
	if err != nil {
		return remote.Config{}, nil, fmt.Errorf("%s: %w", inv.File, err)
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
			return remote.Config{}, nil, err
		}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if _, err := os.Stat(s.KnownHosts); err != nil && !cfg.HostKeys.AcceptNew {
		closeAgent()
		return remote.Config{}, nil, fmt.Errorf("known_hosts file %s: %w (set ssh.known_hosts, or accept new host keys to create it)", s.KnownHosts, err)
	}
	return cfg, closeAgent, nil
}
