package system

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
)

// Need is something the agent must be granted on a host (a group, a command), and the inputs that need it, as
// plans and errors name them ("docker (templates/inputs/docker.toml)").
type Need struct {
	Name string
	By   []string
}

func needNames(ns []Need) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

// KindGroup is the kind of a membership's changes, named by the group: the user joins it (create) or leaves it
// (delete). The group itself is never created nor deleted.
const KindGroup = "group"

// Membership is the supplementary groups a user must be in (a process's groups are fixed when it starts: the
// service that runs as the user watches these changes). A group missing on the host is an error: it belongs to
// whatever software made it. fleetctl records in Record the groups it added the user to, and takes the user out
// only of those once no longer wanted: a membership the user had before is left alone.
type Membership struct {
	User   string
	Groups []Need // sorted by name
	Record string // root's file listing the groups fleetctl added User to, one a line
	Family *Family

	bound
}

// NewMembership binds a user's groups to a host.
func NewMembership(r Runner, f *Facts, m Membership) *Membership {
	m.bound = bound{r, f}
	return &m
}

// Absent takes the user out of every group fleetctl added it to, and removes the record.
func (m *Membership) Absent() { m.Groups = nil }

func (m *Membership) Kind() string { return "groups" }
func (m *Membership) Name() string { return m.User }

// Query is what Read needs from the host.
func (m *Membership) Query() Query {
	return Query{Files: []string{m.Record}, Users: []string{m.User}, Groups: needNames(m.Groups)}
}

// Read checks the facts hold the user, the record and every wanted group, and that each wanted group exists.
func (m *Membership) Read(context.Context) error {
	if _, ok := m.facts.Files[m.Record]; !ok {
		return fmt.Errorf("file %s was not read from the host", m.Record)
	}
	if _, ok := m.facts.Users[m.User]; !ok {
		return fmt.Errorf("user %s was not read from the host", m.User)
	}
	for _, g := range m.Groups {
		exists, ok := m.facts.Groups[g.Name]
		if !ok {
			return fmt.Errorf("group %s was not read from the host", g.Name)
		}
		if !exists {
			return fmt.Errorf("group %q does not exist on the host, and input %s needs the %s user in it (agent_groups): "+
				"install what makes the group there (for docker, the Docker engine's package), or drop the input from the host; fleetctl never creates it",
				g.Name, strings.Join(g.By, ", input "), m.User)
		}
	}
	return nil
}

// recorded is the groups the record lists.
func (m *Membership) recorded() []string {
	var out []string
	for _, l := range strings.Split(string(m.facts.Files[m.Record].Content), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// RecordContent is the record listing groups.
func (m *Membership) RecordContent(groups []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Managed by fleetctl: the groups it added %s to, for its inputs; it takes %s out of these only.\n", m.User, m.User)
	for _, g := range groups {
		b.WriteString(g + "\n")
	}
	return b.Bytes()
}

// Diff plans each wanted group the user is not in (joined), each group fleetctl added it to and no input wants now
// (left, if the user is still in it), and the record of what fleetctl added.
func (m *Membership) Diff([]plan.Change) []plan.Change {
	user := m.facts.Users[m.User]
	recorded := m.recorded()
	var out []plan.Change
	var keep []string
	for _, g := range m.Groups {
		if slices.Contains(user.Groups, g.Name) {
			if slices.Contains(recorded, g.Name) {
				keep = append(keep, g.Name)
			}
			continue
		}
		keep = append(keep, g.Name)
		out = append(out, plan.Change{Kind: KindGroup, Name: g.Name, Action: plan.Create,
			Fields: []plan.Field{{Name: "member", After: m.User}}, Reason: "input " + strings.Join(g.By, ", input ") + " needs it"})
	}
	wanted := needNames(m.Groups)
	for _, g := range recorded {
		if !slices.Contains(wanted, g) && slices.Contains(user.Groups, g) {
			out = append(out, plan.Change{Kind: KindGroup, Name: g, Action: plan.Delete,
				Fields: []plan.Field{{Name: "member", Before: m.User}}, Reason: "fleetctl added it, and no input of the host needs it now"})
		}
	}
	slices.Sort(keep)
	got := m.facts.Files[m.Record]
	digest := fmt.Sprintf("%s|%s", strings.Join(user.Groups, ","), fileDigest(got))
	for i := range out {
		out[i].ReadDigest = digest
	}
	rec := plan.Change{Kind: KindFile, Name: m.Record, Action: plan.NoOp, ReadDigest: digest}
	switch want := m.RecordContent(keep); {
	case len(keep) == 0 && got.Exists:
		rec.Action, rec.Reason = plan.Delete, "written by fleetctl and no longer wanted"
	case len(keep) == 0:
		return out
	case !got.Exists:
		text := string(want)
		rec.Action, rec.AfterText = plan.Create, &text
		rec.Fields = []plan.Field{{Name: "mode", After: "0644"}, {Name: "owner", After: "root"}, {Name: "group", After: "root"}}
	case !bytes.Equal(got.Content, want) || got.Mode != 0o644 || got.Owner != "root" || got.Group != "root":
		before, text := string(got.Content), string(want)
		rec.Action, rec.BeforeText, rec.AfterText = plan.Update, &before, &text
	}
	return append(out, rec)
}

func (m *Membership) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, m, changes)
}

// Fragment joins and leaves the groups with the family's commands, then writes (or removes) the record.
func (m *Membership) Fragment(changes []plan.Change) (Fragment, error) {
	var frag Fragment
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, ch := range changes {
		switch {
		case ch.Kind == KindGroup && ch.Action == plan.Create:
			b.WriteString(m.Family.JoinGroup(m.User, ch.Name) + "\n")
		case ch.Kind == KindGroup && ch.Action == plan.Delete:
			b.WriteString(m.Family.LeaveGroup(m.User, ch.Name) + "\n")
		case ch.Kind == KindFile && (ch.Action == plan.Create || ch.Action == plan.Update):
			frag.Files = append(frag.Files, remote.File{Name: "record", Data: []byte(*ch.AfterText)})
			p, tmp := remote.Quote(m.Record), remote.Quote(m.Record+".fleetctl-new")
			fmt.Fprintf(&b, "install -d -m 0755 %s\ninstall -m 0644 -o root -g root \"$S\"/record %s\nmv -f %s %s\n",
				remote.Quote(path.Dir(m.Record)), tmp, tmp, p)
		case ch.Kind == KindFile && ch.Action == plan.Delete:
			fmt.Fprintf(&b, "rm -f %s\n", remote.Quote(m.Record))
		}
	}
	frag.Script = b.String()
	frag.Explain = func(status int, output string) error {
		return fmt.Errorf("set the groups of user %s: %w", m.User, &FragmentError{Status: status, Output: output})
	}
	return frag, nil
}

// Format names the user and its groups.
func (m *Membership) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "Membership{%s in %s}", m.User, strings.Join(needNames(m.Groups), ","))
}

// Sudoers is one sudoers drop-in that lets a user run exactly Commands as root without a password (sudo -n), and
// nothing else: fleetctl owns the file, and removes it when no command is wanted. The file is checked with visudo
// before it is put in place (a broken drop-in would break sudo for everyone), and written 0440 root:root beside its
// place under a name sudo skips (it holds a dot), then renamed. sudo missing on a host that needs the rule is an
// error.
type Sudoers struct {
	Path     string // in /etc/sudoers.d, without a dot in its name (sudo would skip it)
	User     string
	Commands []Need // absolute paths, sorted

	bound
}

// KindSudoers is the kind of the sudoers resource.
const KindSudoers = "sudoers"

// NewSudoers binds a sudoers drop-in to a host.
func NewSudoers(r Runner, f *Facts, s Sudoers) *Sudoers {
	s.bound = bound{r, f}
	return &s
}

// Absent removes the drop-in.
func (s *Sudoers) Absent() { s.Commands = nil }

func (s *Sudoers) Kind() string { return KindSudoers }
func (s *Sudoers) Name() string { return s.User }

// Query is what Read needs from the host: the drop-in, and visudo (sudo's own checker) when a rule is wanted.
func (s *Sudoers) Query() Query {
	q := Query{Files: []string{s.Path}}
	if len(s.Commands) > 0 {
		q.Commands = []string{"visudo"}
	}
	return q
}

func (s *Sudoers) Read(context.Context) error {
	if _, ok := s.facts.Files[s.Path]; !ok {
		return fmt.Errorf("file %s was not read from the host", s.Path)
	}
	if len(s.Commands) == 0 {
		return nil
	}
	visudo, ok := s.facts.Commands["visudo"]
	if !ok {
		return fmt.Errorf("command visudo was not read from the host")
	}
	if visudo == "" {
		var by []string
		for _, c := range s.Commands {
			for _, b := range c.By {
				if !slices.Contains(by, b) {
					by = append(by, b)
				}
			}
		}
		return fmt.Errorf("sudo is not installed on the host, and input %s runs %s as root with sudo (sudo_commands): install sudo there, or drop the input from the host",
			strings.Join(by, ", input "), strings.Join(needNames(s.Commands), ", "))
	}
	return nil
}

// Content is the drop-in.
func (s *Sudoers) Content() []byte {
	var by []string
	for _, c := range s.Commands {
		for _, b := range c.By {
			name, _, _ := strings.Cut(b, " ")
			if !slices.Contains(by, name) {
				by = append(by, name)
			}
		}
	}
	slices.Sort(by)
	return []byte(fmt.Sprintf("# Managed by fleetctl: the commands Telegraf's inputs run as root with sudo -n (for %s), and nothing else.\n%s ALL=(root) NOPASSWD: %s\n",
		strings.Join(by, ", "), s.User, strings.Join(needNames(s.Commands), ", ")))
}

// Diff plans the drop-in created, rewritten whole (content, mode or owner differ) or deleted.
func (s *Sudoers) Diff([]plan.Change) []plan.Change {
	got := s.facts.Files[s.Path]
	ch := plan.Change{Kind: KindFile, Name: s.Path, Action: plan.NoOp, ReadDigest: fileDigest(got)}
	if len(s.Commands) == 0 {
		if !got.Exists {
			return nil
		}
		ch.Action, ch.Reason = plan.Delete, "written by fleetctl, and no input of the host runs a command with sudo now"
		return []plan.Change{ch}
	}
	want := s.Content()
	text := string(want)
	switch {
	case !got.Exists:
		ch.Action, ch.AfterText = plan.Create, &text
		ch.Fields = []plan.Field{{Name: "mode", After: "0440"}, {Name: "owner", After: "root"}, {Name: "group", After: "root"}}
	case !bytes.Equal(got.Content, want) || got.Mode != 0o440 || got.Owner != "root" || got.Group != "root":
		before := string(got.Content)
		ch.Action, ch.BeforeText, ch.AfterText = plan.Update, &before, &text
		for _, f := range []plan.Field{
			{Name: "mode", Before: fmt.Sprintf("%04o", got.Mode), After: "0440"},
			{Name: "owner", Before: got.Owner, After: "root"},
			{Name: "group", Before: got.Group, After: "root"},
		} {
			if f.Changed() {
				ch.Fields = append(ch.Fields, f)
			}
		}
	}
	return []plan.Change{ch}
}

func (s *Sudoers) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, s, changes)
}

// ExitSudoersRefused is the fragment's status when visudo refuses the staged drop-in: nothing was installed.
const ExitSudoersRefused = 66

// Fragment checks the staged drop-in with visudo, then installs it beside its place and renames it there; or
// removes it.
func (s *Sudoers) Fragment(changes []plan.Change) (Fragment, error) {
	var frag Fragment
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, ch := range changes {
		switch ch.Action {
		case plan.Create, plan.Update:
			frag.Files = append(frag.Files, remote.File{Name: "sudoers", Data: s.Content()})
			p, tmp, dir := remote.Quote(s.Path), remote.Quote(s.Path+".fleetctl-new"), remote.Quote(path.Dir(s.Path))
			fmt.Fprintf(&b, "if ! out=$(visudo -c -q -f \"$S\"/sudoers 2>&1); then printf '%%s\\n' \"$out\"; exit %d; fi\n", ExitSudoersRefused)
			fmt.Fprintf(&b, "[ -d %s ] || install -d -m 0750 -o root -g root %s\ninstall -m 0440 -o root -g root \"$S\"/sudoers %s\nmv -f %s %s\n",
				dir, dir, tmp, tmp, p)
		case plan.Delete:
			fmt.Fprintf(&b, "rm -f %s\n", remote.Quote(s.Path))
		}
	}
	frag.Script = b.String()
	frag.Explain = func(status int, output string) error {
		if status == ExitSudoersRefused {
			return fmt.Errorf("sudo rule %s: visudo refused it, nothing was installed: %s", s.Path, strings.TrimSpace(output))
		}
		return fmt.Errorf("install sudo rule %s: %w", s.Path, &FragmentError{Status: status, Output: output})
	}
	return frag, nil
}

// Format names the file and its commands.
func (s *Sudoers) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "Sudoers{%s: %s}", s.Path, strings.Join(needNames(s.Commands), ","))
}
