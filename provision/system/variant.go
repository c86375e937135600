package system

import (
	"fmt"

	"github.com/fleetctl/fleetctl/provision/repokey"
	"slices"
	"sort"
	"strings"
)

// Repo is where the telegraf package comes from and the key it must be signed with.
type Repo struct {
	AptURL string // e.g. https://repos.influxdata.com/debian
	RPMURL string // e.g. https://repos.influxdata.com/stable/$basearch/main
	Key    []byte // verified binary keyring
}

// Variant is everything that differs between the operating systems fleetctl supports: how the repository and its
// key are declared, how a package is installed, which service manager runs the agent. One entry per family in
// Variants; adding a family is adding an entry.
type Variant struct {
	Family   string   // package family: "apt", "dnf", "yum", "zypper", "apk"
	IDs      []string // os-release IDs (and ID_LIKE words) that select it
	Versions string   // human summary of supported versions, for the README table and refusals
	// RepoFiles are the files that declare the repository and pin its key.
	RepoFiles func(r Repo) []FileSpec
	// Install is the root shell script that installs pkg (version pinned when not empty) from the declared repo.
	Install func(pkg, version string) string
	// Remove uninstalls pkg (used only by tests and drift scenarios).
	Remove func(pkg string) string
}

// OS is a detected operating system.
type OS struct {
	ID, Like, VersionID, Pretty string
	Init                        string
	Variant                     *Variant
}

// AptKeyring is where apt reads the InfluxData key from (signed-by).
const AptKeyring = "/etc/apt/keyrings/influxdata-archive.gpg"

// Variants lists every supported family.
func Variants() []*Variant {
	return []*Variant{aptVariant()}
}

func aptVariant() *Variant {
	const list = "/etc/apt/sources.list.d/influxdata.list"
	return &Variant{
		Family:   "apt",
		IDs:      []string{"debian", "ubuntu"},
		Versions: "Debian 10–13, Ubuntu 20.04–24.04",
		RepoFiles: func(r Repo) []FileSpec {
			return []FileSpec{
				{Path: AptKeyring, Content: r.Key, Mode: 0o644, Owner: "root", Group: "root", Summary: keySummary},
				{Path: list, Content: []byte(fmt.Sprintf("# Managed by fleetctl.\ndeb [signed-by=%s] %s stable main\n", AptKeyring, r.AptURL)),
					Mode: 0o644, Owner: "root", Group: "root"},
			}
		},
		Install: func(pkg, version string) string {
			target := pkg
			if version != "" {
				target += "=" + version
			}
			// Refresh only the InfluxData list: the host's other sources are not ours to touch, and an unreachable
			// mirror elsewhere must not fail the install.
			return "export DEBIAN_FRONTEND=noninteractive\n" +
				"apt-get update -qq -o Dir::Etc::sourcelist=" + list + " -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0\n" +
				"apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold " + target + " >/dev/null\n"
		},
		Remove: func(pkg string) string {
			return "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq " + pkg + " >/dev/null"
		},
	}
}

// keySummary shows a keyring by its primary fingerprints, which is what the pin is about.
func keySummary(b []byte) string {
	fps := repokey.FingerprintOf(b)
	if len(fps) == 0 {
		return fmt.Sprintf("not an OpenPGP key (%d bytes)", len(b))
	}
	return "OpenPGP key " + strings.Join(fps, ", ")
}

// RepoFilePaths lists the repository files of every variant, so one batched read covers whichever OS the host runs.
func RepoFilePaths() []string {
	var out []string
	for _, v := range Variants() {
		for _, f := range v.RepoFiles(Repo{}) {
			out = append(out, f.Path)
		}
	}
	return out
}

// Detect maps os-release to a supported variant, or refuses with what it found and what is supported.
func Detect(osr map[string]string, init string) (*OS, error) {
	o := &OS{ID: osr["ID"], Like: osr["ID_LIKE"], VersionID: osr["VERSION_ID"], Pretty: osr["PRETTY_NAME"], Init: init}
	words := append([]string{o.ID}, strings.Fields(o.Like)...)
	for _, v := range Variants() {
		for _, w := range words {
			if slices.Contains(v.IDs, w) {
				o.Variant = v
				return o, nil
			}
		}
	}
	return nil, fmt.Errorf("unsupported operating system: os-release has ID=%q ID_LIKE=%q VERSION_ID=%q; supported: %s",
		o.ID, o.Like, o.VersionID, SupportedSummary())
}

// SupportedSummary names every supported family and its versions.
func SupportedSummary() string {
	var parts []string
	for _, v := range Variants() {
		parts = append(parts, fmt.Sprintf("%s (%s)", v.Family, v.Versions))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
