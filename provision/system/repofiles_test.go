package system

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// A URL that reaches the renderer with a space or a line break (the inventory refuses them) still makes one URL on
// one line: no second dnf mirror, no extra apt suite, no line of the URL's choosing.
func TestRepoFilesKeepAURLOneToken(t *testing.T) {
	r := Repo{AptURL: "https://m/debian https://evil/debian", RPMURL: "https://m/rpm https://evil/rpm\ngpgcheck=0\u00a0\u200b"}
	f := Families()
	apt := string(f["apt"].RepoFiles(r)[1].Content)
	if want := "# Managed by fleetctl.\ndeb [signed-by=" + AptKeyring + "] https://m/debian%20https://evil/debian stable main\n"; apt != want {
		t.Errorf("apt source:\n%q\nwant\n%q", apt, want)
	}
	for _, name := range []string{"dnf", "zypper"} {
		repo := string(f[name].RepoFiles(r)[1].Content)
		if !strings.Contains(repo, "\nbaseurl=https://m/rpm%20https://evil/rpm%0Agpgcheck=0%C2%A0%E2%80%8B\n") || strings.Contains(repo, "gpgcheck=0\n") {
			t.Errorf("%s repo file:\n%s", name, repo)
		}
	}
	// An ordinary URL is written as it is, $basearch and all.
	r = Repo{AptURL: "https://repos.influxdata.com/debian", RPMURL: "https://repos.influxdata.com/stable/$basearch/main"}
	if repo := string(f["dnf"].RepoFiles(r)[1].Content); !strings.Contains(repo, "\nbaseurl=https://repos.influxdata.com/stable/$basearch/main\n") {
		t.Errorf("plain URL changed:\n%s", repo)
	}
}

func testKey(t *testing.T, name string) []byte {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Unix(1700000000, 0) }}
	e, err := openpgp.NewEntity(name, "", name+"@example.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func armorKey(t *testing.T, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PublicKeyType, map[string]string{"Comment": "exported elsewhere"})
	w.Write(bin)
	w.Close()
	b.WriteString("\n")
	return b.Bytes()
}

// A host whose key file holds a key beside the pinned one (appended behind fleetctl's back, or left by a version
// that installed the fetched file as it was) shows every key in the plan and is rewritten to exactly the pinned key.
func TestKeyFilePlanShowsEveryKeyTheHostTrusts(t *testing.T) {
	pinBin, extraBin := testKey(t, "repo"), testKey(t, "extra")
	pin, extra := repokey.Inspect(pinBin).Fingerprints[0], repokey.Inspect(extraBin).Fingerprints[0]
	k, err := repokey.Verify(pinBin, pin)
	if err != nil {
		t.Fatal(err)
	}
	r := Repo{Key: k.Binary, KeyArmored: k.Armored}
	for _, c := range []struct {
		family, name string
		onHost       []byte
		before       string // the content field's Before, exactly ("" for no change)
	}{
		{"apt", "exact", k.Binary, ""},
		{"apt", "a key appended", append(append([]byte{}, k.Binary...), extraBin...), "2 OpenPGP keys: " + pin + ", " + extra},
		{"dnf", "exact", k.Armored, ""},
		{"dnf", "a block appended", append(append([]byte{}, k.Armored...), armorKey(t, extraBin)...), "2 OpenPGP keys: " + pin + ", " + extra + " in 2 armored blocks"},
		{"zypper", "two keys in one block", armorKey(t, append(append([]byte{}, pinBin...), extraBin...)), "2 OpenPGP keys: " + pin + ", " + extra},
		{"dnf", "text after the block", append(append([]byte{}, k.Armored...), "gpgcheck=0\n"...), "OpenPGP key " + pin + "; 10 bytes of other data after the armored block"},
		{"dnf", "not a key", []byte("<html>"), "not an OpenPGP key (6 bytes)"},
		// The same key encoded otherwise: the summaries alone would read the same, so the bytes are told apart.
		{"dnf", "the pinned key exported elsewhere", armorKey(t, pinBin), "OpenPGP key " + pin + " ("},
	} {
		spec := Families()[c.family].RepoFiles(r)[0]
		fs := NewFileSet(nil, &Facts{Files: map[string]FileFact{spec.Path: {Exists: true, Mode: 0o644, Owner: "root", Group: "root", Content: c.onHost}}},
			FileSet{Files: []FileSpec{spec}, Masker: secret.NewMasker()})
		ch := fs.Diff(nil)[0]
		if c.before == "" {
			if ch.Action != plan.NoOp {
				t.Errorf("%s, %s: %s %+v", c.family, c.name, ch.Action, ch.Fields)
			}
			continue
		}
		if ch.Action != plan.Update || len(ch.Fields) != 1 || ch.Fields[0].Name != "content" {
			t.Fatalf("%s, %s: %s %+v", c.family, c.name, ch.Action, ch.Fields)
		}
		f := ch.Fields[0]
		if !strings.HasPrefix(f.Before, c.before) || (!strings.HasSuffix(c.before, "(") && f.Before != c.before) || !strings.HasPrefix(f.After, "OpenPGP key "+pin) {
			t.Errorf("%s, %s: content %q → %q, want %q → the pinned key", c.family, c.name, f.Before, f.After, c.before)
		}
		if f.Before == f.After {
			t.Errorf("%s, %s: the change reads as no change: %q", c.family, c.name, f.Before)
		}
		// Apply writes fleetctl's own encoding of the one key, whatever the host had.
		frag, err := fs.Fragment([]plan.Change{ch})
		if err != nil || len(frag.Files) != 1 || !bytes.Equal(frag.Files[0].Data, spec.Content) {
			t.Fatalf("%s, %s: apply would write %v (%v)", c.family, c.name, frag.Files, err)
		}
		if got := repokey.Inspect(frag.Files[0].Data); !got.Clean() || got.Fingerprints[0] != pin {
			t.Errorf("%s, %s: apply would write %+v", c.family, c.name, got)
		}
	}
}
