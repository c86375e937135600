package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// Where the agent's secrets live on a host that keeps them as systemd credentials. fleetctl owns the directory
// and the drop-in.
const (
	credentialsDir    = "/etc/telegraf/fleetctl-credentials"
	credentialsDropIn = "/etc/systemd/system/telegraf.service.d/fleetctl-credentials.conf"
	// secretStoreID is the id of the [[secretstores.systemd]] fleetctl declares: references read @{fleetctl:KEY}.
	secretStoreID = "fleetctl"
	// credentialPrefix starts the name of every credential Telegraf's systemd store serves: it strips it to get
	// the secret's key.
	credentialPrefix = "telegraf."
	// keyInfluxPassword is the key of the agent's InfluxDB password.
	keyInfluxPassword = "influxdb_password"
)

// secretStoreMinor is the first Telegraf 1.x with the systemd secret store.
const secretStoreMinor = 29

// SecretStorage is where a host's agent gets its secrets: encrypted systemd credentials read through Telegraf's
// systemd secret store, or (Credentials false) the 0640 configuration file itself.
type SecretStorage struct {
	Credentials bool
	Why         string // the facts that decided, as the plan says them
}

// DecideStorage picks a host's secret storage from its facts: credentials where its init is a running systemd
// >= 250 with systemd-creds and a system bus, and the Telegraf that will run there has the systemd secret store
// (>= 1.29). That Telegraf is the pinned version when the package is (to be) installed at it, else the installed
// one; on a host without Telegraf and no pin, the repository's newest is what gets installed, and it is assumed
// to be recent enough (a repository that serves an older one fails the agent's configuration check at apply,
// which restores the previous files; the next plan then sees the installed version and falls back).
func DecideStorage(osInfo *system.OS, sd system.SystemdFact, installed system.PackageFact, pinned string) SecretStorage {
	if osInfo.Init != "systemd" {
		return SecretStorage{Why: "the host's service manager is " + osInfo.Init + ", not systemd"}
	}
	if why := sd.Unsupported(); why != "" {
		return SecretStorage{Why: why}
	}
	version, known := installed.Version, installed.Installed
	if pinned != "" && (!installed.Installed || !strings.HasPrefix(installed.Version, pinned)) {
		version, known = pinned, true
	}
	if !known {
		return SecretStorage{Credentials: true, Why: fmt.Sprintf("systemd %d; telegraf not installed yet: the repository's newest, assumed >= 1.%d", sd.Version, secretStoreMinor)}
	}
	major, minor, ok := majorMinor(version)
	if !ok {
		return SecretStorage{Why: fmt.Sprintf("telegraf version %q is not one fleetctl can compare", version)}
	}
	if major < 1 || (major == 1 && minor < secretStoreMinor) {
		return SecretStorage{Why: fmt.Sprintf("telegraf %s has no systemd secret store (it needs 1.%d)", version, secretStoreMinor)}
	}
	return SecretStorage{Credentials: true, Why: fmt.Sprintf("systemd %d, telegraf %s", sd.Version, version)}
}

// majorMinor reads "1.37.2-1", "1:1.37.2" or "1.29" as 1, 37 or 1, 29.
func majorMinor(v string) (int, int, bool) {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

var notWord = regexp.MustCompile(`\W`)

// AgentSecrets is how one host's agent configuration refers to its secrets, and the one way a secret reaches the
// agent: whatever renders a Telegraf file writes Ref(key, value) where the value would go. With credentials, Ref
// records the value as the encrypted credential "telegraf.KEY" and returns the reference @{fleetctl:KEY};
// without, it returns the value itself (and the file holding it must be 0640 root:telegraf).
type AgentSecrets struct {
	Storage SecretStorage
	creds   []system.Credential
}

// Ref is what to write in the agent's configuration for the secret named key (letters, digits and _; anything
// else becomes _): a reference into the systemd secret store, or the value.
func (a *AgentSecrets) Ref(key string, v secret.Value) string {
	if a == nil || !a.Storage.Credentials {
		return v.Reveal()
	}
	key = notWord.ReplaceAllString(key, "_")
	name := credentialPrefix + key
	if !slices.ContainsFunc(a.creds, func(c system.Credential) bool { return c.Name == name }) {
		a.creds = append(a.creds, system.Credential{Name: name, Value: v})
	}
	return "@{" + secretStoreID + ":" + key + "}"
}

// Store says whether the configuration must declare fleetctl's systemd secret store.
func (a *AgentSecrets) Store() bool { return a != nil && a.Storage.Credentials }

// Credentials are the credentials Ref recorded, in order.
func (a *AgentSecrets) Credentials() []system.Credential {
	if a == nil {
		return nil
	}
	return a.creds
}

// names are the credentials' names.
func (a *AgentSecrets) names() []string {
	var out []string
	for _, c := range a.Credentials() {
		out = append(out, c.Name)
	}
	return out
}

// credentialsResource keeps the agent's credentials on the host; on a host without credentials it removes what
// an earlier run wrote, and reports the fallback whenever the outputs file (which then holds the password) is
// written.
func credentialsResource(host string, r system.Runner, facts *system.Facts, f *system.Family, a *AgentSecrets) *system.Credentials {
	c := system.Credentials{Unit: "telegraf", Dir: credentialsDir, DropIn: credentialsDropIn, Creds: a.Credentials()}
	switch {
	case a.Store():
		c.Why = "encrypted on the host: " + a.Storage.Why
	case a != nil:
		c.Plaintext = a.Storage.Why
		c.PlaintextFiles = []string{system.FileAddress(host, f.ConfigDir+"/"+outputsFileName)}
	}
	return system.NewCredentials(r, facts, c)
}

// credentialWatch are the addresses of a host's credential changes that restart the agent, and of the drop-in,
// whose change also reloads systemd's units.
func credentialWatch(host string) (watch []string, units []string) {
	dropIn := system.FileAddress(host, credentialsDropIn)
	return []string{plan.Address(host, system.KindCredential, "*"), dropIn}, []string{dropIn}
}

// credentialFiles are the files systemd reads for the agent's credentials: one newer than the running agent means
// it runs without them (an earlier run wrote them and stopped before its restart).
func credentialFiles(a *AgentSecrets) []string {
	files := []string{credentialsDropIn}
	for _, n := range a.names() {
		files = append(files, credentialsDir+"/"+n)
	}
	return files
}

// credentialQuery is what the host's read needs for the credentials the host's agent would have: the systemd
// facts, each credential, the drop-in and the directory (for leftovers).
func credentialQuery(q *system.Query, names []string) {
	q.Systemd = true
	salt := system.NewSalt()
	for _, n := range names {
		q.Credentials = append(q.Credentials, system.CredentialQuery{Path: credentialsDir + "/" + n, Name: n, Salt: salt})
		// As a file too (its content is encrypted): its time tells whether the running agent has read it.
		q.Files = append(q.Files, credentialsDir+"/"+n)
	}
	q.Files = append(q.Files, credentialsDropIn)
	q.Dirs = append(q.Dirs, credentialsDir)
}
