package e2e

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Hosts of TestKeyPinHolds, one per package manager family: apt, dnf and zypper. No other test touches them.
const (
	hostKeyApt    = "sd8-debian13"
	hostKeyDnf    = "c19-rocky9"
	hostKeyZypper = "c20-suse15"
)

// keyFiles are where each family keeps the repository key, in the form fleetctl writes there.
func keyFiles(k *repokey.Key) map[string][]byte {
	return map[string][]byte{system.AptKeyring: k.Binary, system.RPMKey: k.Armored}
}

// pinnedKey is the bed's repository key as fleetctl installs it.
func (e *env) pinnedKey() *repokey.Key {
	e.t.Helper()
	raw, err := os.ReadFile(e.bed.Repo.KeyFile)
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := repokey.Verify(raw, e.bed.Repo.KeyFingerprint)
	if err != nil {
		e.t.Fatalf("the bed's key %s: %v", e.bed.Repo.KeyFile, err)
	}
	return k
}

// checkKeyFiles fails the test unless every repository key file on every bed host of the inventory (the hosts the
// apply could change), where there is one, is exactly the pinned key as fleetctl writes it: no run may leave a
// host trusting another key. Other tests' hosts are theirs: TestKeyPinHolds plants a wrong key on its own while
// other tests run. The harness calls it after every apply. It reads the files through the hosts' roots on this
// machine: a login to every host after every apply would cost more than the tests it guards.
func (e *env) checkKeyFiles() {
	e.t.Helper()
	want := keyFiles(e.pinnedKey())
	inv, err := os.ReadFile(e.inv)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range e.bed.Hosts {
		if !strings.Contains(string(inv), fmt.Sprintf("address = %q\n", h.Address)) {
			continue
		}
		for path, content := range want {
			got, err := os.ReadFile(filepath.Join(h.Root, path))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				e.t.Errorf("after apply: read %s:%s: %v", h.Name, path, err)
				continue
			}
			if !bytes.Equal(got, content) {
				e.t.Errorf("after apply: %s:%s is not exactly the pinned key %s; gpg reads primary keys %v in it",
					h.Name, path, e.bed.Repo.KeyFingerprint, gpgPrimaries(e.t, got))
			}
		}
	}
}

// gpgPrimaries lists the primary key fingerprints gpg reads in a key file (every armored block, every key), an
// opinion independent of fleetctl's parser.
func gpgPrimaries(t *testing.T, data []byte) []string {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("gpg", "--homedir", home, "--batch", "--with-colons", "--show-keys", file).CombinedOutput()
	_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
	if err != nil {
		t.Fatalf("gpg --show-keys: %v\n%s", err, out)
	}
	var fps []string
	last := ""
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ":")
		if f[0] == "fpr" && last == "pub" && len(f) > 9 {
			fps = append(fps, f[9])
		}
		last = f[0]
	}
	return fps
}

// hostFile reads a file on a bed host over SSH ("" when it does not exist).
func (e *env) hostFile(host, path string) []byte {
	e.t.Helper()
	out := strings.TrimSpace(e.ssh(host, "if [ -e "+path+" ]; then base64 -w0 < "+path+"; fi"))
	b, err := base64.StdEncoding.DecodeString(out)
	if err != nil {
		e.t.Fatalf("%s:%s: %v", host, path, err)
	}
	return b
}

// TestKeyPinHolds attacks the repository key pin on a real apt, dnf and zypper host. A key URL serving the pinned
// key together with another one (two armored blocks, or two keys in one block) is refused before any host is
// touched. A key appended to a host's key file behind fleetctl's back shows in the plan beside the pinned one, and
// apply rewrites the file to exactly the pinned key: gpg, and rpm's own database on the rpm hosts, see that key
// alone.
func TestKeyPinHolds(t *testing.T) {
	t.Parallel()
	hosts := []string{hostKeyApt, hostKeyDnf, hostKeyZypper}
	family := map[string]string{hostKeyApt: system.AptKeyring, hostKeyDnf: system.RPMKey, hostKeyZypper: system.RPMKey}
	e := newEnv(t, hosts, "", "")
	pin := e.bed.Repo.KeyFingerprint
	wrong := gpgPrimaries(t, readFile(t, e.bed.Repo.WrongKeyFile))
	if len(wrong) != 1 || wrong[0] == pin {
		t.Fatalf("the bed's wrong key: %v", wrong)
	}
	repoFiles := []string{system.AptKeyring, system.AptList, system.RPMKey, system.YumRepo, system.ZypperRepo}
	state := func(host string) string {
		return e.ssh(host, "for f in "+strings.Join(repoFiles, " ")+"; do if [ -e $f ]; then sha256sum $f; else echo absent $f; fi; done; "+
			"command -v telegraf || echo no telegraf")
	}
	before := map[string]string{}
	for _, h := range hosts {
		before[h] = state(h)
	}

	keyURL := `key_url = "` + e.bed.Repo.KeyURL + `"`
	for _, c := range []struct{ url, says string }{
		{e.bed.Repo.ExtraKeyURL, "repository key file holds 2 armored blocks (primary keys " + pin + ", " + wrong[0] + ")"},
		{e.bed.Repo.ExtraJoinedKeyURL, "repository key file holds 2 primary keys (" + pin + ", " + wrong[0] + "); exactly one, " + pin + ", is expected"},
	} {
		e.edit(keyURL, `key_url = "`+c.url+`"`)
		for _, cmd := range [][]string{{"plan"}, {"apply", "--auto-approve"}} {
			_, stderr, code := e.run(cmd...)
			for _, w := range []string{"telegraf.key_url " + c.url + ": " + c.says, "point telegraf.key_url at a file holding only the key " + pin} {
				if code != 1 || !strings.Contains(stderr, w) {
					t.Errorf("%s with key_url %s: exit %d, want 1 and %q:\n%s", cmd[0], c.url, code, w, stderr)
				}
			}
		}
		e.edit(`key_url = "`+c.url+`"`, keyURL)
	}
	for _, h := range hosts {
		if got := state(h); got != before[h] {
			t.Errorf("%s changed although every run was refused:\nbefore:\n%s\nafter:\n%s", h, before[h], got)
		}
	}

	// Onboarded with the pinned key: each key file is that key alone (checkKeyFiles has compared the bytes after the
	// apply; gpg agrees).
	e.must("apply", "--auto-approve")
	checkHost := func(when string) {
		t.Helper()
		for _, h := range hosts {
			data := e.hostFile(h, family[h])
			if got := gpgPrimaries(t, data); len(got) != 1 || got[0] != pin {
				t.Errorf("%s: %s:%s holds primary keys %v, want %s alone", when, h, family[h], got, pin)
			}
			if family[h] == system.RPMKey {
				if n := bytes.Count(data, []byte("-----BEGIN PGP")); n != 1 {
					t.Errorf("%s: %s:%s has %d armored blocks", when, h, family[h], n)
				}
				// rpm trusts the keys in its database: the pinned one (imported at the install) and never the other.
				ids := strings.Fields(e.ssh(h, "rpm -q gpg-pubkey --qf '%{VERSION}\\n' 2>/dev/null || true"))
				if !slices.Contains(ids, strings.ToLower(pin[32:])) || slices.Contains(ids, strings.ToLower(wrong[0][32:])) {
					t.Errorf("%s: %s: rpm trusts keys %v; want %s and never %s", when, h, ids, strings.ToLower(pin[32:]), strings.ToLower(wrong[0][32:]))
				}
			}
		}
	}
	checkHost("after onboarding")

	// The wrong key appended to each host's key file behind fleetctl's back, as its family stores keys.
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range hosts {
				e.ssh(h, "sudo rm -f "+family[h]) // no later apply must find the tampered file
			}
		}
	})
	extra := map[string][]byte{system.AptKeyring: readFile(t, strings.TrimSuffix(e.bed.Repo.WrongKeyFile, ".asc")+".gpg"), system.RPMKey: readFile(t, e.bed.Repo.WrongKeyFile)}
	for _, h := range hosts {
		e.ssh(h, "echo "+base64.StdEncoding.EncodeToString(extra[family[h]])+" | base64 -d | sudo tee -a "+family[h]+" >/dev/null")
		if got := gpgPrimaries(t, e.hostFile(h, family[h])); len(got) != 2 {
			t.Fatalf("%s: tampering left %v", h, got)
		}
	}
	plan := e.must("plan")
	for _, h := range hosts {
		s := hostSection(plan, h)
		shown := "content: 2 OpenPGP keys: " + pin + ", " + wrong[0]
		if family[h] == system.RPMKey {
			shown += " in 2 armored blocks"
		}
		for _, w := range []string{addressed("~ update file:"+family[h], h), shown + " → OpenPGP key " + pin} {
			if !strings.Contains(s, w) {
				t.Errorf("%s: plan lacks %q:\n%s", h, w, s)
			}
		}
		if n := len(changeLines.FindAllString(s, -1)); n != 1 {
			t.Errorf("%s: want the key file alone to change, got %d changes:\n%s", h, n, s)
		}
	}
	e.must("apply", "--auto-approve")
	checkHost("after the repair")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 3 hosts.") {
		t.Fatalf("not repaired:\n%s", out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
