package testbed_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// The repository tests prove that the bed's package repositories are real: signed by the published key and by no
// other, listing telegraf at the bed's version, and shipping the real Telegraf binary in both formats.

// TestRepoKeyFingerprint: the published fingerprint is the primary key's of the key file, the served key is that file,
// and signatures come from a subkey (as with InfluxData's key), so clients must compare primary fingerprints.
func TestRepoKeyFingerprint(t *testing.T) {
	bed := testbed.Require(t)
	ctx := repoContext(t)
	r := bed.Repo
	if !regexp.MustCompile(`^[0-9A-F]{40}$`).MatchString(r.KeyFingerprint) {
		t.Fatalf("key_fingerprint %q is not 40 uppercase hex digits", r.KeyFingerprint)
	}
	keys := repoShowKeys(ctx, t, r.KeyFile)
	if keys.primary != r.KeyFingerprint {
		t.Fatalf("key_fingerprint %s, but the primary key of %s is %s", r.KeyFingerprint, r.KeyFile, keys.primary)
	}
	if len(keys.signingSubkeys) == 0 {
		t.Errorf("key %s has no signing subkey (want one, like InfluxData's)", r.KeyFile)
	}

	local, err := os.ReadFile(r.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if served := repoGet(ctx, t, r.KeyURL); !bytes.Equal(served, local) {
		t.Errorf("%s serves other bytes than %s", r.KeyURL, r.KeyFile)
	}
	binKey := filepath.Join(t.TempDir(), "repo.gpg")
	repoDownload(ctx, t, r.BaseURL+"/repo.gpg", binKey)
	if got := repoShowKeys(ctx, t, binKey).primary; got != r.KeyFingerprint {
		t.Errorf("%s/repo.gpg has primary fingerprint %s, want %s", r.BaseURL, got, r.KeyFingerprint)
	}

	wrong := repoWrongKey(t)
	if served := repoGet(ctx, t, wrong.URL); len(served) == 0 {
		t.Errorf("%s is empty", wrong.URL)
	}
	if got := repoShowKeys(ctx, t, wrong.File).primary; got == r.KeyFingerprint {
		t.Errorf("the wrong key %s is the repository key", wrong.File)
	}
}

// TestRepoExtraKeys: extra.asc and extra-joined.asc are served as described and hold exactly the repository key and
// the wrong key, as gpg reads them (which is how apt and dnf would trust them); extra.asc as two armored blocks,
// extra-joined.asc as one.
func TestRepoExtraKeys(t *testing.T) {
	bed := testbed.Require(t)
	ctx := repoContext(t)
	r := bed.Repo
	wrong := repoShowKeys(ctx, t, r.WrongKeyFile).primary
	for _, c := range []struct {
		url, file string
		blocks    int
	}{{r.ExtraKeyURL, r.ExtraKeyFile, 2}, {r.ExtraJoinedKeyURL, r.ExtraJoinedKeyFile, 1}} {
		if c.url == "" || c.file == "" {
			t.Fatalf("the description lacks an extra key: %+v", r)
		}
		local, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if served := repoGet(ctx, t, c.url); !bytes.Equal(served, local) {
			t.Errorf("%s serves other bytes than %s", c.url, c.file)
		}
		if n := bytes.Count(local, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")); n != c.blocks {
			t.Errorf("%s: %d armored blocks, want %d", c.file, n, c.blocks)
		}
		out := repoMustRun(ctx, t, repoGnupgHome(ctx, t, ""), "gpg", "--batch", "--with-colons", "--show-keys", c.file)
		var primaries []string
		last := ""
		for _, line := range strings.Split(out, "\n") {
			f := strings.Split(line, ":")
			if f[0] == "fpr" && last == "pub" && len(f) > 9 {
				primaries = append(primaries, f[9])
			}
			last = f[0]
		}
		if got, want := strings.Join(primaries, " "), r.KeyFingerprint+" "+wrong; got != want {
			t.Errorf("%s: primary keys %q, want %q (the repository key, then the wrong one)", c.file, got, want)
		}
	}
}

// TestRepoApt: InRelease verifies with the repository keyring and not with the wrong one, the indexes chain by
// checksum to the .deb, and the .deb holds the real Telegraf at the bed's version, packaged like InfluxData's.
func TestRepoApt(t *testing.T) {
	bed := testbed.Require(t)
	ctx := repoContext(t)
	r := bed.Repo
	dir := t.TempDir()
	dists := r.AptURL + "/dists/stable"
	inRelease := repoDownload(ctx, t, dists+"/InRelease", filepath.Join(dir, "InRelease"))
	release := repoDownload(ctx, t, dists+"/Release", filepath.Join(dir, "Release"))
	releaseSig := repoDownload(ctx, t, dists+"/Release.gpg", filepath.Join(dir, "Release.gpg"))
	keyring := repoDownload(ctx, t, r.BaseURL+"/repo.gpg", filepath.Join(dir, "repo.gpg"))

	signed := filepath.Join(dir, "InRelease.signed")
	repoMustRun(ctx, t, nil, "gpgv", "--keyring", keyring, "--output", signed, inRelease)
	repoMustRun(ctx, t, nil, "gpgv", "--keyring", keyring, releaseSig, release)
	releaseText := repoReadFile(t, release)
	if repoReadFile(t, signed) != releaseText {
		t.Errorf("the signed text of InRelease differs from Release")
	}

	wrongRing := repoDearmor(ctx, t, repoWrongKey(t).File)
	if out, err := repoRun(ctx, nil, "gpgv", "--keyring", wrongRing, inRelease); err == nil {
		t.Errorf("InRelease verified with the wrong key:\n%s", out)
	}
	if out, err := repoRun(ctx, nil, "gpgv", "--keyring", wrongRing, releaseSig, release); err == nil {
		t.Errorf("Release.gpg verified with the wrong key:\n%s", out)
	}

	rel := repoParseStanzas(releaseText)[0]
	if rel["Suite"] != "stable" || !strings.Contains(rel["Components"], "main") || !strings.Contains(rel["Architectures"], "amd64") {
		t.Errorf("Release: suite %q components %q architectures %q, want stable, main, amd64", rel["Suite"], rel["Components"], rel["Architectures"])
	}
	packages := repoGet(ctx, t, dists+"/main/binary-amd64/Packages")
	if want := repoReleaseSHA256(t, rel, "main/binary-amd64/Packages"); repoSHA256(packages) != want {
		t.Fatalf("Packages has sha256 %s, Release says %s", repoSHA256(packages), want)
	}
	packagesGz := repoGet(ctx, t, dists+"/main/binary-amd64/Packages.gz")
	if want := repoReleaseSHA256(t, rel, "main/binary-amd64/Packages.gz"); repoSHA256(packagesGz) != want {
		t.Errorf("Packages.gz has sha256 %s, Release says %s", repoSHA256(packagesGz), want)
	}

	pkg := repoFindDeb(t, string(packages), r.TelegrafVersion)
	deb := repoDownload(ctx, t, r.AptURL+"/"+pkg["Filename"], filepath.Join(dir, "telegraf.deb"))
	if got := repoSHA256File(t, deb); got != pkg["SHA256"] {
		t.Fatalf("%s has sha256 %s, Packages says %s", pkg["Filename"], got, pkg["SHA256"])
	}

	root := filepath.Join(dir, "root")
	repoMustRun(ctx, t, nil, "dpkg-deb", "-x", deb, root)
	repoCheckPayload(ctx, t, root, r.TelegrafVersion)

	ctl := filepath.Join(dir, "control")
	repoMustRun(ctx, t, nil, "dpkg-deb", "-e", deb, ctl)
	if conffiles := repoReadFile(t, filepath.Join(ctl, "conffiles")); !repoHasLine(conffiles, "/etc/telegraf/telegraf.conf") {
		t.Errorf("conffiles does not list /etc/telegraf/telegraf.conf:\n%s", conffiles)
	}
	repoCheckScript(t, "postinst", repoReadFile(t, filepath.Join(ctl, "postinst")), "adduser --system --group")
}

// TestRepoRPM: repomd.xml verifies with the repository key and not with the wrong one, the metadata chains by
// checksum to the .rpm, the .rpm's own signature checks against the key in an rpm db, and it holds the same binary
// as the .deb.
func TestRepoRPM(t *testing.T) {
	bed := testbed.Require(t)
	ctx := repoContext(t)
	r := bed.Repo
	dir := t.TempDir()
	if !strings.Contains(r.RPMURL, "$basearch") {
		t.Errorf("rpm_url %q does not contain a literal $basearch", r.RPMURL)
	}
	base := strings.ReplaceAll(r.RPMURL, "$basearch", "x86_64")
	repomd := repoDownload(ctx, t, base+"/repodata/repomd.xml", filepath.Join(dir, "repomd.xml"))
	repomdSig := repoDownload(ctx, t, base+"/repodata/repomd.xml.asc", filepath.Join(dir, "repomd.xml.asc"))
	repomdKey := repoDownload(ctx, t, base+"/repodata/repomd.xml.key", filepath.Join(dir, "repomd.xml.key"))

	good := repoGnupgHome(ctx, t, r.KeyFile)
	repoMustRun(ctx, t, good, "gpg", "--batch", "--verify", repomdSig, repomd)
	wrong := repoGnupgHome(ctx, t, repoWrongKey(t).File)
	if out, err := repoRun(ctx, wrong, "gpg", "--batch", "--verify", repomdSig, repomd); err == nil {
		t.Errorf("repomd.xml verified with the wrong key:\n%s", out)
	}
	if got := repoShowKeys(ctx, t, repomdKey).primary; got != r.KeyFingerprint {
		t.Errorf("repomd.xml.key (zypper's key) has primary fingerprint %s, want %s", got, r.KeyFingerprint)
	}

	primaryHref, primarySum := repoMDPrimary(t, repoReadFile(t, repomd))
	primaryGz := repoGet(ctx, t, base+"/"+primaryHref)
	if repoSHA256(primaryGz) != primarySum {
		t.Fatalf("%s has sha256 %s, repomd.xml says %s", primaryHref, repoSHA256(primaryGz), primarySum)
	}
	pkg := repoFindRPM(t, repoGunzip(t, primaryGz), r.TelegrafVersion)
	rpmFile := repoDownload(ctx, t, base+"/"+pkg.Location.Href, filepath.Join(dir, "telegraf.rpm"))
	if got := repoSHA256File(t, rpmFile); got != pkg.Checksum.Value {
		t.Fatalf("%s has sha256 %s, primary.xml says %s", pkg.Location.Href, got, pkg.Checksum.Value)
	}

	// rpm -K against a private rpm db: fails without the key and with the wrong key, passes with the repository's.
	checkRPMSig := func(name, keyFile string, want bool) {
		t.Helper()
		db := filepath.Join(dir, "rpmdb-"+name)
		if err := os.Mkdir(db, 0o700); err != nil {
			t.Fatal(err)
		}
		if keyFile != "" {
			repoMustRun(ctx, t, nil, "rpm", "--dbpath", db, "--import", keyFile)
		}
		out, err := repoRun(ctx, nil, "rpm", "--dbpath", db, "-K", rpmFile)
		ok := err == nil && strings.Contains(out, "signatures OK") && !strings.Contains(out, "NOT OK")
		if ok != want {
			t.Errorf("rpm -K with %s: ok=%v, want %v (err %v):\n%s", name, ok, want, err, out)
		}
	}
	checkRPMSig("no-key", "", false)
	checkRPMSig("wrong-key", repoWrongKey(t).File, false)
	checkRPMSig("repo-key", r.KeyFile, true)

	nevra := repoMustRun(ctx, t, nil, "rpm", "-qp", "--nosignature", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}", rpmFile)
	if want := "telegraf " + r.TelegrafVersion + " 1 x86_64"; nevra != want {
		t.Errorf("rpm is %q, want %q", nevra, want)
	}
	if conf := repoMustRun(ctx, t, nil, "rpm", "-qpc", "--nosignature", rpmFile); !repoHasLine(conf, "/etc/telegraf/telegraf.conf") {
		t.Errorf("rpm config files do not include /etc/telegraf/telegraf.conf:\n%s", conf)
	}
	if flags := repoMustRun(ctx, t, nil, "rpm", "-qp", "--nosignature", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpmFile); !repoHasLine(flags, "/etc/telegraf/telegraf.conf cn") {
		t.Errorf("telegraf.conf is not %%config(noreplace):\n%s", flags)
	}
	repoCheckScript(t, "rpm scriptlets", repoMustRun(ctx, t, nil, "rpm", "-qp", "--nosignature", "--scripts", rpmFile), "useradd -r")

	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(dir, "telegraf.tgz")
	repoMustRun(ctx, t, nil, "sh", "-c", `rpm2archive - < "$1" > "$2"`, "rpm2archive", rpmFile, tgz)
	repoMustRun(ctx, t, nil, "tar", "-xzf", tgz, "-C", root)
	rpmBinary := repoCheckPayload(ctx, t, root, r.TelegrafVersion)

	// The same binary as the .deb's.
	debPkg := repoFindDeb(t, string(repoGet(ctx, t, r.AptURL+"/dists/stable/main/binary-amd64/Packages")), r.TelegrafVersion)
	deb := repoDownload(ctx, t, r.AptURL+"/"+debPkg["Filename"], filepath.Join(dir, "telegraf.deb"))
	debRoot := filepath.Join(dir, "deb-root")
	repoMustRun(ctx, t, nil, "dpkg-deb", "--fsys-tarfile", deb) // readable archive
	repoMustRun(ctx, t, nil, "dpkg-deb", "-x", deb, debRoot)
	if debBinary := repoSHA256File(t, filepath.Join(debRoot, "usr/bin/telegraf")); debBinary != rpmBinary {
		t.Errorf("the .rpm's telegraf (sha256 %s) differs from the .deb's (%s)", rpmBinary, debBinary)
	}
}

// repoCheckPayload checks the installed tree both packages share and returns the sha256 of usr/bin/telegraf.
func repoCheckPayload(ctx context.Context, t *testing.T, root, version string) string {
	t.Helper()
	bin := filepath.Join(root, "usr/bin/telegraf")
	out := repoMustRun(ctx, t, nil, bin, "--version")
	if !strings.HasPrefix(out, "Telegraf ") || !strings.Contains(out, version) {
		t.Errorf("%s --version = %q, want Telegraf %s", bin, out, version)
	}
	unit := repoReadFile(t, filepath.Join(root, "usr/lib/systemd/system/telegraf.service"))
	for _, line := range []string{
		"User=telegraf",
		"ExecStart=/usr/bin/telegraf -config /etc/telegraf/telegraf.conf -config-directory /etc/telegraf/telegraf.d $TELEGRAF_OPTS",
		"EnvironmentFile=-/etc/default/telegraf",
		"Restart=on-failure",
		"WantedBy=multi-user.target",
	} {
		if !repoHasLine(unit, line) {
			t.Errorf("telegraf.service lacks %q:\n%s", line, unit)
		}
	}
	conf := repoReadFile(t, filepath.Join(root, "etc/telegraf/telegraf.conf"))
	for _, want := range []string{"[agent]", "[[outputs.influxdb]]", `"http://127.0.0.1:8086"`, "[[inputs.cpu]]", "[[inputs.mem]]"} {
		if !strings.Contains(conf, want) {
			t.Errorf("telegraf.conf lacks %s", want)
		}
	}
	for _, d := range []string{"etc/telegraf/telegraf.d", "var/log/telegraf"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("package lacks directory /%s (%v)", d, err)
		}
	}
	return repoSHA256File(t, bin)
}

// checkMaintainerScript: a system user, enabled under systemd, never started (packages since 1.25 leave that to the
// operator; an upgrade's try-restart only restarts a running service).
func repoCheckScript(t *testing.T, name, script, userCmd string) {
	t.Helper()
	for _, want := range []string{userCmd, "[ -d /run/systemd/system ]", "systemctl daemon-reload", "systemctl enable telegraf"} {
		if !strings.Contains(script, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, script)
		}
	}
	if m := regexp.MustCompile(`systemctl\s+(start|restart|enable\s+--now)\b`).FindString(script); m != "" {
		t.Errorf("%s starts the service (%q):\n%s", name, m, script)
	}
}

// --- keys ---

type repoKeyInfo struct {
	primary        string
	signingSubkeys []string
}

// repoShowKeys reads a key file (armored or binary) without importing it.
func repoShowKeys(ctx context.Context, t *testing.T, file string) repoKeyInfo {
	t.Helper()
	out := repoMustRun(ctx, t, repoGnupgHome(ctx, t, ""), "gpg", "--batch", "--with-colons", "--show-keys", file)
	var k repoKeyInfo
	var last string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ":")
		switch {
		case f[0] == "pub" || f[0] == "sub":
			if k.primary != "" && f[0] == "pub" {
				t.Fatalf("%s holds more than one key", file)
			}
			last = f[0]
			if f[0] == "sub" && len(f) > 11 && strings.Contains(f[11], "s") {
				last = "signing-sub"
			}
		case f[0] == "fpr" && len(f) > 9:
			switch last {
			case "pub":
				k.primary = f[9]
			case "signing-sub":
				k.signingSubkeys = append(k.signingSubkeys, f[9])
			}
			last = ""
		}
	}
	if k.primary == "" {
		t.Fatalf("no primary key in %s:\n%s", file, out)
	}
	return k
}

// repoGnupgHome returns the environment of a private GNUPGHOME, with keyFile imported unless empty.
func repoGnupgHome(ctx context.Context, t *testing.T, keyFile string) []string {
	t.Helper()
	home, err := os.MkdirTemp(t.TempDir(), "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + home}
	t.Cleanup(func() {
		// gpg may start helpers (agent, dirmngr) that outlive it; stop them with the home they serve.
		_, _ = repoRun(context.Background(), env, "gpgconf", "--kill", "all")
	})
	if keyFile != "" {
		repoMustRun(ctx, t, env, "gpg", "--batch", "--import", keyFile)
	}
	return env
}

// repoDearmor converts an armored key to the binary keyring gpgv reads.
func repoDearmor(ctx context.Context, t *testing.T, asc string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(asc), ".asc")+".gpg")
	repoMustRun(ctx, t, repoGnupgHome(ctx, t, ""), "gpg", "--batch", "--yes", "--dearmor", "-o", out, asc)
	return out
}

type repoWrongKeyRef struct{ URL, File string }

// repoWrongKey reads the description's wrong_key_* fields (not part of testbed.Repo).
func repoWrongKey(t *testing.T) repoWrongKeyRef {
	t.Helper()
	path := testbed.DescriptionPath()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Repo struct {
			URL  string `json:"wrong_key_url"`
			File string `json:"wrong_key_file"`
		} `json:"repo"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if d.Repo.URL == "" || d.Repo.File == "" {
		t.Fatalf("%s: repo.wrong_key_url or repo.wrong_key_file missing", path)
	}
	return repoWrongKeyRef{URL: d.Repo.URL, File: d.Repo.File}
}

// --- apt indexes ---

// repoParseStanzas parses deb822 paragraphs; continuation lines are joined with newlines.
func repoParseStanzas(text string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	var key string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		case line[0] == ' ' || line[0] == '\t':
			cur[key] += "\n" + strings.TrimSpace(line)
		default:
			k, v, _ := strings.Cut(line, ":")
			key = k
			cur[k] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func repoReleaseSHA256(t *testing.T, rel map[string]string, path string) string {
	t.Helper()
	for _, line := range strings.Split(rel["SHA256"], "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[2] == path {
			return f[0]
		}
	}
	t.Fatalf("Release has no SHA256 for %s", path)
	return ""
}

func repoFindDeb(t *testing.T, packages, version string) map[string]string {
	t.Helper()
	for _, p := range repoParseStanzas(packages) {
		if p["Package"] == "telegraf" && p["Version"] == version+"-1" && p["Architecture"] == "amd64" {
			return p
		}
	}
	t.Fatalf("Packages does not list telegraf %s-1 amd64:\n%s", version, packages)
	return nil
}

// --- rpm metadata ---

func repoMDPrimary(t *testing.T, repomd string) (href, sha string) {
	t.Helper()
	var md struct {
		Data []struct {
			Type     string `xml:"type,attr"`
			Checksum struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"checksum"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal([]byte(repomd), &md); err != nil {
		t.Fatalf("parse repomd.xml: %v", err)
	}
	for _, d := range md.Data {
		if d.Type == "primary" {
			if d.Checksum.Type != "sha256" {
				t.Fatalf("repomd.xml: primary checksum type %q, want sha256", d.Checksum.Type)
			}
			return d.Location.Href, d.Checksum.Value
		}
	}
	t.Fatalf("repomd.xml has no primary data:\n%s", repomd)
	return "", ""
}

type repoRPMEntry struct {
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Ver string `xml:"ver,attr"`
		Rel string `xml:"rel,attr"`
	} `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
}

func repoFindRPM(t *testing.T, primary []byte, version string) repoRPMEntry {
	t.Helper()
	var md struct {
		Packages []repoRPMEntry `xml:"package"`
	}
	if err := xml.Unmarshal(primary, &md); err != nil {
		t.Fatalf("parse primary.xml: %v", err)
	}
	for _, p := range md.Packages {
		if p.Name == "telegraf" && p.Arch == "x86_64" && p.Version.Ver == version && p.Version.Rel == "1" && p.Checksum.Type == "sha256" {
			return p
		}
	}
	t.Fatalf("primary.xml does not list telegraf-%s-1.x86_64 with a sha256 checksum:\n%s", version, primary)
	return repoRPMEntry{}
}

// --- plumbing ---

func repoContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// repoRun runs a command with extra environment and returns its combined output, trimmed.
func repoRun(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(out.String()), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(out.String()), nil
}

func repoMustRun(ctx context.Context, t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := repoRun(ctx, env, name, args...)
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	return out
}

func repoFetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("repoFetch %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("repoFetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("repoFetch %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("repoFetch %s: %w", url, errors.New(resp.Status))
	}
	return body, nil
}

func repoGet(ctx context.Context, t *testing.T, url string) []byte {
	t.Helper()
	body, err := repoFetch(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// repoDownload saves url to path and returns path.
func repoDownload(ctx context.Context, t *testing.T, url, path string) string {
	t.Helper()
	if err := os.WriteFile(path, repoGet(ctx, t, url), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func repoReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func repoGunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func repoSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func repoSHA256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReader(f)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func repoHasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}
