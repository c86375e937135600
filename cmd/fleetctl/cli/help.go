package cli

import (
	"fmt"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	ucli "github.com/urfave/cli/v2"
)

// The help text is meant to stand in for a man page (fleetctl man prints it as one): every command says what it
// does and shows examples. Descriptions are kept here, apart from the commands' flags, so each reads as a whole.

const appDescription = `fleetctl puts TICK-stack monitoring on a fleet of servers. For every host of a TOML inventory it installs
and configures Telegraf over SSH, creates the host's InfluxDB 1.x database with a write-only and a read-only user,
adds a Grafana datasource and defines Kapacitor alert tasks. It shows what it would change before changing
anything, and a re-run changes only what drifted.

Getting started:

    fleetctl import-ansible -o inventory.toml ansible/hosts    # or write inventory.toml by hand
    fleetctl validate                                          # check it offline
    fleetctl plan --limit web                                  # what would change on the web hosts
    fleetctl apply --limit web                                 # show the plan, ask, apply

The inventory is -i FILE, else $FLEETCTL_INVENTORY, else inventory.toml; its format is in inventory/FORMAT.md.
Secrets are never in it: each names an environment variable or a file.

Environment: FLEETCTL_INVENTORY (the inventory), NO_COLOR (no colours), TERM=dumb (no colours or status line).

Exit codes: 0 success; 1 an error, a failed host or a refused apply; 2 changes present (plan --detailed-exitcode);
3 a host not reporting (status); 64 a usage error; 130 interrupted (Ctrl-C: hosts in flight finish, no new host starts).

Shell completion: source <(fleetctl completion bash), likewise zsh, or fleetctl completion fish | source.`

var commandDescriptions = map[string]string{
	"plan": `Connects to every selected host over SSH and to the InfluxDB, Grafana and Kapacitor servers, reads their
state and prints what apply would change, per host and resource. Changes nothing.

Examples:

    fleetctl plan                                    # every host of inventory.toml
    fleetctl plan -i prod.toml --limit web,db-*      # hosts of group web and hosts named db-*
    fleetctl plan --format markdown > plan.md        # for a pull-request comment
    fleetctl plan --detailed-exitcode                # in CI: exit 2 when something drifted
    fleetctl plan --out reviewed.plan                # save it, then: fleetctl apply reviewed.plan`,

	"apply": `Makes the plan, shows it, asks for "yes" and makes exactly those changes. On each host: the InfluxData
repository and key, the telegraf package, its configuration (checked before it takes effect) and the service,
restarted only when something it depends on changed; on the servers: database, users, grants, datasource, tasks.
With a saved plan (plan --out FILE), apply re-reads everything and refuses if anything moved on since.

Examples:

    fleetctl apply --limit web                       # plan, ask, apply
    fleetctl apply --auto-approve                    # no question (required when stdin is not a terminal)
    fleetctl apply --batch 10 --max-fail 2           # 10 hosts at a time, the first batch a canary
    fleetctl apply --batch 20% --only '*/file:*'     # only file changes, a fifth of the hosts at a time
    fleetctl apply --batch 5 --wait-reporting 2m     # a batch is healthy once its agents write new points
    fleetctl apply reviewed.plan                     # exactly the saved plan`,

	"destroy": `Plans the removal of the selected hosts from monitoring, shows it, asks for "yes" and carries it out. On
the servers: the hosts' Kapacitor tasks (those carrying fleetctl's marker) and topic handlers, their Grafana dashboard and datasource,
their InfluxDB grants and users; the database, the host's history, only with --delete-data, confirmed by typing
the host's name (or --yes-delete-data=HOST without a terminal). On each host: the agent stopped and disabled and
fleetctl's files deleted; --purge-agent also removes the package, its repository and key. A host that cannot be
reached still has its servers' side removed, and the plan and the report say its own side was skipped. A later
plan of a host still in the inventory shows it created again.

Examples:

    fleetctl destroy --host web7                             # plan, ask, remove; the data stays
    fleetctl destroy --host web7 --delete-data --purge-agent  # everything, history included
    fleetctl destroy --limit old --out gone.plan             # save the plan, then: fleetctl apply gone.plan
    fleetctl destroy --host web7 --delete-data --yes-delete-data=web7 --auto-approve   # in CI`,
	"status": `Says, per host, whether it is reporting: the newest point in its InfluxDB database and its age, its
Kapacitor tasks (enabled, executing, their errors), the alerts firing on the topics its tasks publish to, Grafana's
health check of its datasource, and over one SSH session per host whether the agent is active. The servers are
read once for the whole fleet. Exit 0 when every host is reporting with every check passing, 3 when any host is
stale (its newest point older than --stale-after), silent (no point at all), unreachable or failing a check,
1 on an error (the inventory, a server's credentials).

Examples:

    fleetctl status                                  # every host, as a table
    fleetctl status --limit web --stale-after 5m     # the web hosts; older than 5 minutes is stale
    fleetctl status --no-ssh --format json           # from the servers only, as one JSON document
    fleetctl status --format markdown > status.md    # for an incident or pull-request comment`,

	"render": `Prints every file and TICK script the host would get, with secrets masked. Contacts no server and needs
no secret.

Examples:

    fleetctl render --host web1
    fleetctl render -i prod.toml --host db-1 | less`,

	"validate": `Checks the inventory (every key, name, address and reference, all problems at once with file:line), the
input profiles and every alert pack's TICK scripts. Contacts no server and needs no secret; with --secrets it also
reads every secret source the inventory names (the servers' credentials, the master secret, contacts, service
settings, input secrets) and reports each one that does not resolve at its file:line, printing no value.

Examples:

    fleetctl validate
    fleetctl validate -i prod.toml
    fleetctl validate --secrets     # on the machine that applies: every env variable and file is there`,

	"alerts": `Sends a test notification through the handlers of a route (a contact of [alerts.contacts]), or of every
route of a host, with Kapacitor's service tests (/kapacitor/v1/service-tests), and prints per handler whether the
service accepted it. Uses the service settings Kapacitor has now: apply first to test the inventory's. Kinds
without a service test (log, exec) are listed as not tested. Exit 1 when a handler refused.

Examples:

    fleetctl alerts test --route acme-mail
    fleetctl alerts test --host web1`,

	"version": `Prints the version, the commit it was built from and the Go version.

Example:

    fleetctl version`,

	"import-ansible": `Reads an Ansible inventory (an INI or YAML file, or a directory of them, with the group_vars/ and
host_vars/ folders beside it) and writes a fleetctl inventory: every host with its address, port and user from
ansible_host, ansible_port and ansible_user (resolved with Ansible's variable precedence), key files from
ansible_ssh_private_key_file, and every group. Nested groups are flattened: each host lists every group it is
in, directly or through children. What has no fleetctl equivalent (become passwords, other variables) is listed
at the end as comments, never with its value. A name, address or user fleetctl would refuse is an error naming
the Ansible file and line. Fill in the server URLs and the secrets' sources, then run fleetctl validate.

Examples:

    fleetctl import-ansible ansible/hosts > inventory.toml
    fleetctl import-ansible -o inventory.toml inventories/prod/         # a directory inventory
    fleetctl import-ansible -o inventory.toml --force --user deploy site.yml
    ansible-inventory -i aws_ec2.yml --list --yaml > hosts.yml && fleetctl import-ansible hosts.yml`,

	"completion": `Prints a completion script: commands, flags, and host and group names from the inventory for --limit and
--host (read from -i, FLEETCTL_INVENTORY or inventory.toml at completion time).

Examples:

    source <(fleetctl completion bash)                                  # in ~/.bashrc
    source <(fleetctl completion zsh)                                   # in ~/.zshrc, after compinit
    fleetctl completion fish > ~/.config/fish/completions/fleetctl.fish`,

	"man": `Prints the manual page of fleetctl (every command, its flags and examples) in roff.

Examples:

    fleetctl man | man -l -
    fleetctl man > /usr/local/share/man/man1/fleetctl.1`,
}

// addHelp gives the app and every command its description; run before a command or its help is shown.
func addHelp(app *ucli.App) {
	app.Description = appDescription
	for _, c := range app.Commands {
		if d, ok := commandDescriptions[c.Name]; ok && c.Description == "" {
			c.Description = d
		}
	}
}

func manCommand(io IO) *ucli.Command {
	return &ucli.Command{
		Name:  "man",
		Usage: "print the manual page",
		Action: func(c *ucli.Context) error {
			addHelp(c.App)
			_, err := io.Stdout.Write(md2man.Render([]byte(manMarkdown(c.App))))
			return err
		},
	}
}

// manMarkdown is the manual page in the markdown go-md2man reads: the app's description, then each command's
// usage, description with its examples, and flags. (urfave/cli's own ToMan leaves command descriptions out.)
func manMarkdown(app *ucli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%% %s 1\n\n# NAME\n\n%s - %s\n\n# SYNOPSIS\n\n**%s** *command* [*options*] [*arguments*]\n\n",
		app.Name, app.Name, app.Usage, app.Name)
	fmt.Fprintf(&b, "# DESCRIPTION\n\n%s\n\n# COMMANDS\n\n", app.Description)
	for _, c := range app.VisibleCommands() {
		if c.Name == "help" {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n%s\n\n**%s %s**", c.Name, c.Usage, app.Name, c.Name)
		if len(c.VisibleFlags()) > 0 {
			b.WriteString(" [*options*]")
		}
		if c.ArgsUsage != "" {
			fmt.Fprintf(&b, " *%s*", c.ArgsUsage)
		}
		b.WriteString("\n\n")
		if c.Description != "" {
			b.WriteString(c.Description + "\n\n")
		}
		for _, f := range c.VisibleFlags() {
			if f.Names()[0] == "help" {
				continue
			}
			fmt.Fprintf(&b, "**%s**\n: %s\n\n", manFlagNames(f), manEscape(usageOf(f)))
		}
	}
	return b.String()
}

func manFlagNames(f ucli.Flag) string {
	var names []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			names = append(names, "-"+n)
		} else {
			names = append(names, "--"+n)
		}
	}
	s := strings.Join(names, ", ")
	if takesValue(f) {
		s += " VALUE"
	}
	return s
}

func usageOf(f ucli.Flag) string {
	if d, ok := f.(ucli.DocGenerationFlag); ok {
		return d.GetUsage()
	}
	return ""
}

// manEscape keeps markdown from reading a flag's usage (globs, backquotes) as emphasis.
func manEscape(s string) string {
	return strings.NewReplacer("*", `\*`, "_", `\_`, "`", "").Replace(s)
}
