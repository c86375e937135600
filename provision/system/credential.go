package system

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// SystemdFact is what the host's systemd offers for encrypted credentials.
type SystemdFact struct {
	Running bool // systemd is the host's init (/run/systemd/system exists): not a chroot with a stand-in systemctl
	Version int  // the running systemd's version (systemctl --version); 0 when not running or unknown
	Creds   bool // systemd-creds is installed
	DBus    bool // the system bus socket exists (Telegraf's systemd secret store asks systemd's version over it)
}

// CredentialsMinVersion is the first systemd with encrypted credentials (systemd-creds, LoadCredentialEncrypted=).
const CredentialsMinVersion = 250

// Unsupported says why the host cannot keep encrypted credentials, or "" when it can.
func (s SystemdFact) Unsupported() string {
	switch {
	case !s.Running:
		return "systemd is not the host's init"
	case s.Version == 0:
		return "the version of the host's systemd is unknown"
	case s.Version < CredentialsMinVersion:
		return fmt.Sprintf("systemd %d has no encrypted credentials (they need %d)", s.Version, CredentialsMinVersion)
	case !s.Creds:
		return fmt.Sprintf("systemd %d without systemd-creds", s.Version)
	case !s.DBus:
		return "no D-Bus system bus (the agent asks systemd's version over it)"
	}
	return ""
}

const systemdScript = "m systemd; if [ -d /run/systemd/system ]; then echo running; " +
	"systemctl --version 2>/dev/null | sed -n '1s/^systemd \\([0-9][0-9]*\\).*/V \\1/p'; fi; " +
	"if command -v systemd-creds >/dev/null 2>&1; then echo creds; fi; if [ -S /run/dbus/system_bus_socket ]; then echo dbus; fi\n"

func parseSystemd(lines []string) SystemdFact {
	var s SystemdFact
	for _, l := range lines {
		switch {
		case l == "running":
			s.Running = true
		case l == "creds":
			s.Creds = true
		case l == "dbus":
			s.DBus = true
		case strings.HasPrefix(l, "V "):
			s.Version, _ = strconv.Atoi(strings.TrimPrefix(l, "V "))
		}
	}
	return s
}

// CredentialQuery asks for one encrypted credential: its file's metadata, and whether it decrypts on the host
// (as root, with systemd-creds) and to what. The value never leaves the host: only a SHA-256 over Salt and the
// value does, which fleetctl compares with the same digest of the value it wants.
type CredentialQuery struct {
	Path string
	Name string // the name sealed into the credential (systemd-creds --name)
	Salt string // hex; NewSalt
}

// NewSalt is a fresh random salt for CredentialQuery: a digest read from one host says nothing of another's, nor
// of another run's.
func NewSalt() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

func (c CredentialQuery) script() string {
	p, n, salt := remote.Quote(c.Path), remote.Quote("--name="+c.Name), remote.Quote(c.Salt)
	// Decrypted twice (cheap with the host key): once for the verdict, once into the digest, so the value is never
	// held in a variable or a file.
	return fmt.Sprintf("m cred %s; if [ -f %s ]; then stat -c '%%a %%U %%G' %s; echo S %s; "+
		"if command -v systemd-creds >/dev/null 2>&1 && systemd-creds decrypt %s %s - >/dev/null 2>&1; then "+
		"{ printf '%%s' %s; systemd-creds decrypt %s %s - 2>/dev/null; } | sha256sum | sed 's/^\\([0-9a-f]*\\).*/H \\1/'; "+
		"else echo 'H -'; fi; fi\n", p, p, p, salt, n, p, salt, n, p)
}

// CredentialFact is an encrypted credential as found on the host.
type CredentialFact struct {
	Exists bool
	Mode   uint32
	Owner  string
	Group  string
	Salt   string
	Digest string // SHA-256 of Salt and the decrypted value; "" when it does not decrypt on this host
}

// Format never shows the digest.
func (c CredentialFact) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "CredentialFact{exists=%t %04o %s:%s, decrypts=%t}", c.Exists, c.Mode, c.Owner, c.Group, c.Digest != "")
}

func parseCredential(lines []string) (CredentialFact, error) {
	if len(lines) == 0 {
		return CredentialFact{}, nil
	}
	parts := strings.Fields(lines[0])
	if len(parts) != 3 {
		return CredentialFact{}, fmt.Errorf("unexpected stat output %q", lines[0])
	}
	mode, err := strconv.ParseUint(parts[0], 8, 32)
	if err != nil {
		return CredentialFact{}, fmt.Errorf("unexpected mode %q", parts[0])
	}
	cf := CredentialFact{Exists: true, Mode: uint32(mode), Owner: parts[1], Group: parts[2]}
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "S "):
			cf.Salt = strings.TrimPrefix(l, "S ")
		case strings.HasPrefix(l, "H "):
			if h := strings.TrimPrefix(l, "H "); h != "-" {
				cf.Digest = h
			}
		}
	}
	return cf, nil
}

// credentialDigest is what CredentialQuery's script computes for value.
func credentialDigest(salt string, v secret.Value) string {
	sum := sha256.Sum256([]byte(salt + v.Reveal()))
	return hex.EncodeToString(sum[:])
}

// Credential is one secret a service gets as an encrypted systemd credential.
type Credential struct {
	Name  string // as the service sees it in $CREDENTIALS_DIRECTORY ("telegraf.influxdb_password")
	Value secret.Value
}

// KindCredential is the kind of a credential's changes, named by the credential's name.
const KindCredential = "credential"

// Credentials keeps a service's secrets as systemd credentials encrypted on the host (systemd-creds encrypt, with
// the host key, or the TPM2 and the host key where there is one), loaded by a drop-in of the unit
// (LoadCredentialEncrypted=), so no secret is in plain text on disk. fleetctl owns Dir and the drop-in: a
// credential in Dir it no longer wants is deleted, and with no Creds at all both go (a host that falls back to
// files, or a host being cleared).
//
// Whether a credential holds the wanted value is read on the host: it is decrypted there, as root, into a salted
// digest (CredentialQuery); nothing about the value is stored anywhere. A credential that no longer decrypts (the
// host key changed) is encrypted again.
//
// Plaintext and PlaintextFiles are for a host that cannot have credentials: why, and the addresses of the files
// that then hold its secrets; the plan reports the fallback whenever one of them is written.
type Credentials struct {
	Unit   string // the service ("telegraf")
	Dir    string // the encrypted files, one per credential, named after it
	DropIn string // the unit's drop-in that loads them
	Creds  []Credential
	// Why is said in the plan when a credential is written ("systemd 252, telegraf 1.37.2").
	Why            string
	Plaintext      string
	PlaintextFiles []string

	bound
}

// NewCredentials binds a service's credentials to a host.
func NewCredentials(r Runner, f *Facts, c Credentials) *Credentials {
	c.bound = bound{r, f}
	return &c
}

// Format never shows the values.
// Absent makes the resource remove every credential it wrote and its drop-in (the host leaves the fleet).
func (c *Credentials) Absent() { c.Creds, c.Plaintext, c.PlaintextFiles = nil, "", nil }

func (c *Credentials) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "Credentials{%s, %d credentials}", c.Unit, len(c.Creds))
}

func (c *Credentials) Kind() string { return KindCredential }
func (c *Credentials) Name() string { return c.Unit }

// Queries are what the host's read must ask for these credentials (the drop-in and Dir are read as a file and a
// directory).
func (c *Credentials) Queries(salt string) []CredentialQuery {
	var q []CredentialQuery
	for _, cr := range c.Creds {
		q = append(q, CredentialQuery{Path: c.path(cr.Name), Name: cr.Name, Salt: salt})
	}
	return q
}

func (c *Credentials) path(name string) string { return c.Dir + "/" + name }

// DropInContent is the unit drop-in that loads the credentials.
func (c *Credentials) DropInContent() []byte {
	var b bytes.Buffer
	b.WriteString("# Managed by fleetctl: the agent's secrets, encrypted on this host (systemd-creds), loaded by systemd.\n[Service]\n")
	for _, cr := range c.Creds {
		fmt.Fprintf(&b, "LoadCredentialEncrypted=%s:%s\n", cr.Name, c.path(cr.Name))
	}
	return b.Bytes()
}

func (c *Credentials) Read(ctx context.Context) error {
	for _, cr := range c.Creds {
		if _, ok := c.facts.Credentials[c.path(cr.Name)]; !ok {
			return fmt.Errorf("credential %s was not read from the host", cr.Name)
		}
	}
	if _, ok := c.facts.Files[c.DropIn]; !ok {
		return fmt.Errorf("file %s was not read from the host", c.DropIn)
	}
	return nil
}

const credentialMode = 0o600

// Diff plans each credential, the drop-in, and the removal of what is no longer wanted.
func (c *Credentials) Diff(prior []plan.Change) []plan.Change {
	var out []plan.Change
	wanted := map[string]bool{}
	for _, cr := range c.Creds {
		wanted[cr.Name] = true
		out = append(out, c.diffCredential(cr, c.facts.Credentials[c.path(cr.Name)]))
	}
	for _, name := range c.facts.Dirs[c.Dir] {
		if !wanted[name] && !strings.HasSuffix(name, ".fleetctl-new") {
			out = append(out, plan.Change{Kind: KindCredential, Name: name, Action: plan.Delete,
				Reason: "written by fleetctl and no longer wanted"})
		}
	}
	got := c.facts.Files[c.DropIn]
	switch {
	case len(c.Creds) > 0:
		want := c.DropInContent()
		ch := plan.Change{Kind: KindFile, Name: c.DropIn, Action: plan.NoOp, ReadDigest: fileDigest(got)}
		text := string(want)
		switch {
		case !got.Exists:
			ch.Action, ch.AfterText = plan.Create, &text
			ch.Fields = []plan.Field{{Name: "mode", After: "0644"}, {Name: "owner", After: "root"}, {Name: "group", After: "root"}}
		case !bytes.Equal(got.Content, want) || got.Mode != 0o644 || got.Owner != "root" || got.Group != "root":
			// Rewritten whole (content, mode and owner at once): the unit is reloaded and the agent restarted.
			before := string(got.Content)
			ch.Action, ch.BeforeText, ch.AfterText = plan.Update, &before, &text
		}
		out = append(out, ch)
	case got.Exists:
		reason := "written by fleetctl and no longer wanted"
		if c.Plaintext != "" {
			reason += ": " + c.Plaintext
		}
		out = append(out, plan.Change{Kind: KindFile, Name: c.DropIn, Action: plan.Delete, ReadDigest: fileDigest(got), Reason: reason})
	}
	if c.Plaintext != "" {
		// Said in every plan (a no-op in JSON), and shown whenever the file with the secrets is written.
		ch := plan.Change{Kind: KindCredential, Name: c.Unit, Action: plan.NoOp,
			Reason: "in the configuration file, readable by root and the agent only: " + c.Plaintext}
		for _, p := range prior {
			if ChangesContent(p) && p.Action != plan.Delete && slices.Contains(c.PlaintextFiles, p.Address) {
				ch.Action = plan.Report
				ch.Reason = "in plain text in " + p.Name + ", readable by root and the agent only: " + c.Plaintext
				break
			}
		}
		out = append(out, ch)
	}
	return out
}

func fileDigest(f FileFact) string {
	if !f.Exists {
		return "absent"
	}
	sum := sha256.Sum256(f.Content)
	return fmt.Sprintf("%o %s %s %s", f.Mode, f.Owner, f.Group, hex.EncodeToString(sum[:8]))
}

func (c *Credentials) diffCredential(cr Credential, got CredentialFact) plan.Change {
	match := got.Digest != "" && got.Digest == credentialDigest(got.Salt, cr.Value)
	ch := plan.Change{Kind: KindCredential, Name: cr.Name, Action: plan.NoOp, Reason: c.Why,
		ReadDigest: fmt.Sprintf("%t %o %s %s %t", got.Exists, got.Mode, got.Owner, got.Group, match)}
	if !got.Exists {
		ch.Action = plan.Create
		ch.Fields = []plan.Field{{Name: "path", After: c.path(cr.Name)}, {Name: "mode", After: "0600"},
			{Name: "encrypted", After: "on the host (systemd-creds)"}, {Name: "content", Sensitive: true}}
		return ch
	}
	if !match {
		ch.Action = plan.Update
		ch.Fields = append(ch.Fields, plan.Field{Name: "content", Sensitive: true})
		if got.Digest == "" {
			ch.Reason = "it does not decrypt on this host (its key changed?): encrypted again"
		}
	}
	for _, f := range []plan.Field{
		{Name: "mode", Before: fmt.Sprintf("%04o", got.Mode), After: "0600"},
		{Name: "owner", Before: got.Owner, After: "root"},
		{Name: "group", Before: got.Group, After: "root"},
	} {
		if f.Changed() {
			ch.Action = plan.Update
			ch.Fields = append(ch.Fields, f)
		}
	}
	return ch
}

func (c *Credentials) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, c, changes)
}

// Fragment encrypts each changed credential on the host from its value on the command's standard input (never a
// staged file, never the command line), writes it beside its place and renames it there, writes or removes the
// drop-in, and deletes what is no longer wanted. A credential is always encrypted again whole: its mode and owner
// come with it.
func (c *Credentials) Fragment(changes []plan.Change) (Fragment, error) {
	values := map[string]secret.Value{}
	for _, cr := range c.Creds {
		values[cr.Name] = cr.Value
	}
	var frag Fragment
	var b strings.Builder
	b.WriteString("set -e\n")
	dir := remote.Quote(c.Dir)
	for _, ch := range changes {
		switch {
		case ch.Kind == KindCredential && (ch.Action == plan.Create || ch.Action == plan.Update):
			v, ok := values[ch.Name]
			if !ok {
				return Fragment{}, fmt.Errorf("apply credentials of %s: %s is not one of them", c.Unit, ch.Name)
			}
			i := len(frag.Secrets)
			frag.Secrets = append(frag.Secrets, v)
			p := remote.Quote(c.path(ch.Name))
			tmp := remote.Quote(c.path(ch.Name) + ".fleetctl-new")
			fmt.Fprintf(&b, "install -d -m 0700 -o root -g root %s\nrm -f %s\n", dir, tmp)
			fmt.Fprintf(&b, "(umask 077 && secret %d | systemd-creds encrypt %s - %s)\nchown root:root %s\nchmod 0600 %s\nmv -f %s %s\n",
				i, remote.Quote("--name="+ch.Name), tmp, tmp, tmp, tmp, p)
		case ch.Kind == KindCredential && ch.Action == plan.Delete:
			fmt.Fprintf(&b, "rm -f %s\n", remote.Quote(c.path(ch.Name)))
		case ch.Kind == KindFile && ch.Name == c.DropIn && (ch.Action == plan.Create || ch.Action == plan.Update):
			frag.Files = append(frag.Files, remote.File{Name: "dropin", Data: c.DropInContent()})
			d := remote.Quote(path.Dir(c.DropIn))
			fmt.Fprintf(&b, "install -d -m 0755 %s\ninstall -m 0644 -o root -g root \"$S\"/dropin %s\nmv -f %s %s\n",
				d, remote.Quote(c.DropIn+".fleetctl-new"), remote.Quote(c.DropIn+".fleetctl-new"), remote.Quote(c.DropIn))
		case ch.Kind == KindFile && ch.Name == c.DropIn && ch.Action == plan.Delete:
			fmt.Fprintf(&b, "rm -f %s\n", remote.Quote(c.DropIn))
		}
	}
	if len(c.Creds) == 0 {
		fmt.Fprintf(&b, "rmdir %s 2>/dev/null || true\n", dir)
	}
	frag.Script = b.String()
	frag.Explain = func(status int, output string) error {
		return fmt.Errorf("write the encrypted credentials of %s (systemd-creds): exit status %d: %s", c.Unit, status, strings.TrimSpace(output))
	}
	return frag, nil
}

// encodeSecret is how a secret travels on the command's standard input: one base64 line.
func encodeSecret(v secret.Value) string {
	return base64.StdEncoding.EncodeToString([]byte(v.Reveal()))
}
