package system

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// fakeCreds puts on PATH a stand-in for systemd-creds (this machine's own must not be used: it would set up a
// credential key here). It "encrypts" by sealing the name with the base64 of the value, and refuses to decrypt
// under another name, as the real one does; a file starting with "broken" does not decrypt (a changed host key).
func fakeCreds(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	script := `#!/bin/sh
verb=$1; shift
name=
case $1 in --name=*) name=${1#--name=}; shift ;; esac
case $verb in
encrypt) [ "$1" = - ] || exit 9; printf 'sealed %s %s\n' "$name" "$(base64 -w0)" > "$2" ;;
decrypt) read -r tag n v < "$1" || exit 1; [ "$tag" = sealed ] && [ "$n" = "$name" ] || { echo "bad credential" >&2; exit 1; }
	printf '%s' "$v" | base64 -d ;;
*) exit 9 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "systemd-creds"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
}

// recordingRunner is a shellRunner that keeps every script it ran and everything it staged.
type recordingRunner struct {
	shellRunner
	scripts []string
	staged  [][]byte
}

func (r *recordingRunner) SudoWatch(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	r.scripts = append(r.scripts, script)
	return r.shellRunner.SudoWatch(ctx, script, stdin, onLine)
}

func (r *recordingRunner) Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error) {
	return r.SudoWatch(ctx, script, bytes.NewReader(stdin), nil)
}

func (r *recordingRunner) Stage(ctx context.Context, files []remote.File) (string, error) {
	for _, f := range files {
		r.staged = append(r.staged, f.Data)
	}
	return r.shellRunner.Stage(ctx, files)
}

func actions(chs []plan.Change) string {
	var out []string
	for _, c := range chs {
		s := string(c.Action) + " " + c.Kind + ":" + filepath.Base(c.Name)
		for _, f := range c.Fields {
			if f.Sensitive {
				s += " [" + f.Name + " sensitive]"
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// TestCredentialsRoundTrip runs the read and the apply of a credential set through the real shell, with a
// stand-in systemd-creds: a new credential is created and its drop-in written; read again it is unchanged; a new
// value, a credential that no longer decrypts and one no longer wanted are each planned and applied; and no value
// is ever in a script (the host's process list) or a staged file.
func TestCredentialsRoundTrip(t *testing.T) {
	fakeCreds(t)
	dir := t.TempDir()
	r := &recordingRunner{shellRunner: shellRunner{t: t}}
	value := "pa ss\nw'ord\"$(touch " + dir + "/pwned)"
	spec := Credentials{Unit: "telegraf", Dir: dir + "/creds", DropIn: dir + "/unit.d/fleetctl.conf", Why: "test",
		Creds: []Credential{{Name: "telegraf.influxdb_password", Value: secret.New(value)}}}
	cred := spec.Dir + "/telegraf.influxdb_password"

	read := func(s Credentials) *Credentials {
		t.Helper()
		c := NewCredentials(r, nil, s)
		q := Query{Files: []string{s.DropIn}, Dirs: []string{s.Dir}, Credentials: c.Queries(NewSalt())}
		out, err := r.Sudo(context.Background(), q.Script(), nil)
		if err != nil {
			t.Fatal(err)
		}
		facts, err := ParseFacts(out)
		if err != nil {
			t.Fatal(err)
		}
		c.facts = facts
		if err := c.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	apply := func(c *Credentials, chs []plan.Change) {
		t.Helper()
		var pending []plan.Change
		for _, ch := range chs {
			if ch.Action.Changes() {
				pending = append(pending, ch)
			}
		}
		if err := c.Apply(context.Background(), pending); err != nil {
			t.Fatal(err)
		}
	}
	step := func(what string, s Credentials, want string) {
		t.Helper()
		c := read(s)
		chs := c.Diff(nil)
		if got := actions(chs); got != want {
			t.Fatalf("%s: plan %q, want %q", what, got, want)
		}
		apply(c, chs)
		if got := actions(read(s).Diff(nil)); strings.Contains(got, "create") || strings.Contains(got, "update") || strings.Contains(got, "delete") {
			t.Fatalf("%s: not converged after apply: %s", what, got)
		}
	}

	step("new", spec, "create credential:telegraf.influxdb_password [content sensitive], create file:fleetctl.conf")
	if b, _ := os.ReadFile(spec.DropIn); string(b) != string(spec.DropInContent()) ||
		!strings.Contains(string(b), "LoadCredentialEncrypted=telegraf.influxdb_password:"+cred+"\n") {
		t.Errorf("drop-in: %q", b)
	}
	if st, err := os.Stat(cred); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("credential file: %v %v", st, err)
	}
	if got := actions(read(spec).Diff(nil)); got != "no-op credential:telegraf.influxdb_password, no-op file:fleetctl.conf" {
		t.Errorf("read again: %s", got)
	}

	rotated := spec
	rotated.Creds = []Credential{{Name: "telegraf.influxdb_password", Value: secret.New("rotated-value")}}
	step("rotated", rotated, "update credential:telegraf.influxdb_password [content sensitive], no-op file:fleetctl.conf")

	if err := os.WriteFile(cred, []byte("broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := read(rotated)
	chs := c.Diff(nil)
	if chs[0].Action != plan.Update || !strings.Contains(chs[0].Reason, "does not decrypt") {
		t.Errorf("a credential that does not decrypt: %+v", chs[0])
	}
	apply(c, chs)

	if err := os.WriteFile(spec.Dir+"/telegraf.old", []byte("sealed telegraf.old eA==\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step("leftover", rotated, "no-op credential:telegraf.influxdb_password, delete credential:telegraf.old, no-op file:fleetctl.conf")

	off := Credentials{Unit: "telegraf", Dir: spec.Dir, DropIn: spec.DropIn, Plaintext: "systemd 247 has none"}
	step("fallback", off, "delete credential:telegraf.influxdb_password, delete file:fleetctl.conf, no-op credential:telegraf")
	if _, err := os.Stat(spec.Dir); !os.IsNotExist(err) {
		t.Errorf("the credentials directory is still there: %v", err)
	}

	if _, err := os.Stat(dir + "/pwned"); err == nil {
		t.Error("the secret ran as a command")
	}
	for _, s := range r.scripts {
		if strings.Contains(s, value) || strings.Contains(s, "rotated-value") || strings.Contains(s, encodeSecret(secret.New(value))) {
			t.Errorf("a secret is in a script, on the host's process list:\n%s", s)
		}
	}
	for _, b := range r.staged {
		if bytes.Contains(b, []byte(value)) || bytes.Contains(b, []byte("rotated-value")) {
			t.Errorf("a secret was staged on disk: %q", b)
		}
	}
}

// TestCredentialsReportTheFallback: on a host without credentials, the plan says where the secrets are and why:
// a report when the file holding them is written, a no-op (seen in JSON) otherwise.
func TestCredentialsReportTheFallback(t *testing.T) {
	facts := &Facts{Files: map[string]FileFact{"/d/x.conf": {}}, Credentials: map[string]CredentialFact{}}
	c := NewCredentials(nil, facts, Credentials{Unit: "telegraf", Dir: "/d/creds", DropIn: "/d/x.conf",
		Plaintext: "systemd 247 has none", PlaintextFiles: []string{"h/file:/etc/out.conf"}})
	outputs := plan.Change{Address: "h/file:/etc/out.conf", Kind: KindFile, Name: "/etc/out.conf", Action: plan.Create}
	for _, tc := range []struct {
		prior []plan.Change
		want  plan.Action
	}{{nil, plan.NoOp}, {[]plan.Change{outputs}, plan.Report}} {
		chs := c.Diff(tc.prior)
		if len(chs) != 1 || chs[0].Action != tc.want || !strings.Contains(chs[0].Reason, "systemd 247 has none") {
			t.Errorf("prior %v: %+v", tc.prior, chs)
		}
	}
}

func TestSystemdUnsupported(t *testing.T) {
	for _, c := range []struct {
		f    SystemdFact
		want string
	}{
		{SystemdFact{Running: true, Version: 252, Creds: true, DBus: true}, ""},
		{SystemdFact{Running: true, Version: 247, Creds: false, DBus: true}, "systemd 247 has no encrypted credentials (they need 250)"},
		{SystemdFact{Version: 252, Creds: true, DBus: true}, "systemd is not the host's init"},
		{SystemdFact{Running: true, Version: 252, DBus: true}, "systemd 252 without systemd-creds"},
		{SystemdFact{Running: true, Version: 252, Creds: true}, "no D-Bus system bus (the agent asks systemd's version over it)"},
		{SystemdFact{Running: true, Creds: true, DBus: true}, "the version of the host's systemd is unknown"},
	} {
		if got := c.f.Unsupported(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
	f, err := ParseFacts([]byte(marker + "systemd\nrunning\nV 252\ncreds\ndbus\n" + marker + "end\n"))
	if err != nil || f.Systemd != (SystemdFact{Running: true, Version: 252, Creds: true, DBus: true}) {
		t.Fatalf("%+v %v", f.Systemd, err)
	}
}

// TestSecretsReachFragmentsOnStdin: fragments get their secrets exactly, through the command's stdin, ahead of
// the gate's line; the gate still opens.
func TestSecretsReachFragmentsOnStdin(t *testing.T) {
	out := t.TempDir()
	r := &shellRunner{t: t}
	odd := "a\nb c\\d'e\"f$(x)\n"
	frags := []Fragment{
		{Script: "secret 1 > " + out + "/one; secret 0 > " + out + "/zero", Secrets: []secret.Value{secret.New(odd), secret.New("second")}},
		{Script: "secret 0 > " + out + "/two", Secrets: []secret.Value{secret.New("third")}, Gated: true},
	}
	gate := make(chan error, 1)
	gate <- nil
	if _, err := RunFragments(context.Background(), r, frags, gate, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"zero": odd, "one": "second", "two": "third"} {
		if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != want {
			t.Errorf("%s: %q, want %q", name, b, want)
		}
	}
}
