package cli

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"

	"github.com/fleetctl/fleetctl/inventory/ansible"
	ucli "github.com/urfave/cli/v2"
)

func importAnsibleCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:      "import-ansible",
		Usage:     "write a fleetctl inventory from an Ansible inventory (INI or YAML, with group_vars and host_vars)",
		ArgsUsage: "ANSIBLE-INVENTORY",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the inventory to `FILE` instead of stdout"},
			&ucli.BoolFlag{Name: "force", Usage: "overwrite the --output file if it exists"},
			&ucli.StringFlag{Name: "user", Usage: "login `USER` for hosts without ansible_user (default: your user name, as ssh does)"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return withCode(ExitUsage, errors.New("import-ansible takes one argument: the Ansible inventory file or directory"))
			}
			out := c.String("output")
			if out != "" && !c.Bool("force") {
				if _, err := os.Stat(out); err == nil {
					return withCode(ExitError, fmt.Errorf("%s exists: give --force to overwrite it", out))
				}
			}
			res, err := ansible.Import(c.Args().First(), ansible.Options{User: defaultUser(c, io), Getenv: io.Getenv})
			if err != nil {
				return withCode(ExitError, err)
			}
			if out == "" {
				_, err := io.Stdout.Write(res.TOML)
				return err
			}
			if err := writeFile(out, res.TOML); err != nil {
				return withCode(ExitError, err)
			}
			fmt.Fprintf(io.Stderr, "Wrote %s: %d hosts, %d groups; %d items not mapped, listed at its end.\n", out, res.Hosts, res.Groups, len(res.NotMapped))
			fmt.Fprintf(io.Stderr, "Next: set the server URLs and secrets' sources in it, then run: fleetctl validate -i %s\n", out)
			return nil
		},
	}
}

// defaultUser is --user, else the local user name, which is what ssh logs in as when nothing says otherwise.
func defaultUser(c *ucli.Context, io IO) string {
	if u := c.String("user"); u != "" {
		return u
	}
	if u := io.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// writeFile replaces path with data through a temporary file, so a failed write leaves no half inventory.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".import-*.toml")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
