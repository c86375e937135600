package testbed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Bed is the description `up` writes to $TESTBED_DIR/testbed.json.
type Bed struct {
	Version   int       `json:"version"`
	Dir       string    `json:"dir"`
	InfluxDB  InfluxDB  `json:"influxdb"`
	Kapacitor Kapacitor `json:"kapacitor"`
	Grafana   Grafana   `json:"grafana"`
	Repo      Repo      `json:"repo"`
	SSH       SSH       `json:"ssh"`
	Hosts     []Host    `json:"hosts"`
	Inventory string    `json:"inventory"`
	// The reach tests' hosts, apart from Hosts so that tests walking Hosts reach every one directly with the
	// bed's key: the bastion and the hosts behind it (nil when the bed has none), the certificate hosts.
	Bastion *Bastion `json:"bastion"`
	Certs   *Certs   `json:"certs"`
	// InfluxDBTLS is a second InfluxDB, on HTTPS with a certificate of the bed's own CA (CAFile), with the same admin.
	InfluxDBTLS InfluxDB `json:"influxdb_tls"`
}

// Bastion is a jump host in its own network namespace, the only way to the hosts behind it. Its sshd logs every
// login to Log.
type Bastion struct {
	Name         string `json:"name"`
	Address      string `json:"address"`       // on the bed's bridge
	Port         int    `json:"port"`          //
	InnerAddress string `json:"inner_address"` // its address on the network behind it
	Log          string `json:"log"`
	Hosts        []Host `json:"hosts"` // behind it: each has Jump set
}

// Certs are the bed's SSH certificate authorities and the hosts that use them: each presents a host certificate
// signed by HostCA, trusts UserCA, and lets in only a certificate (UserKey with UserCert beside it).
type Certs struct {
	HostCA   string `json:"host_ca"` // public keys
	UserCA   string `json:"user_ca"`
	UserKey  string `json:"user_key"`
	UserCert string `json:"user_cert"` // UserKey + "-cert.pub"
	Hosts    []Host `json:"hosts"`     // each has ClientKey set
}

// InfluxDB is the bed's InfluxDB 1.x. URL is for the bed machine; HostURL is how hosts reach it.
type InfluxDB struct {
	URL           string `json:"url"`
	HostURL       string `json:"host_url"`
	AdminUser     string `json:"admin_user"`
	AdminPassword string `json:"admin_password"`
	Version       string `json:"version"`
	CAFile        string `json:"ca_file"` // PEM CA certificate of an https server; "" for plain http
}

// Kapacitor is the bed's Kapacitor (no authentication).
type Kapacitor struct {
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Grafana is the bed's Grafana, with basic-auth admin credentials.
type Grafana struct {
	URL           string `json:"url"`
	AdminUser     string `json:"admin_user"`
	AdminPassword string `json:"admin_password"`
	Version       string `json:"version"`
}

// Repo is the bed's signed package repositories serving telegraf.
type Repo struct {
	BaseURL         string `json:"base_url"`
	AptURL          string `json:"apt_url"`
	RPMURL          string `json:"rpm_url"`
	KeyURL          string `json:"key_url"`
	KeyFile         string `json:"key_file"`
	KeyFingerprint  string `json:"key_fingerprint"`
	TelegrafVersion string `json:"telegraf_version"`
	// A second, unrelated key for negative tests: a client pinned to it must refuse the repository.
	WrongKeyURL  string `json:"wrong_key_url"`
	WrongKeyFile string `json:"wrong_key_file"`
	// Key files that hold the repository key and the wrong one, which apt and rpm would both trust: two armored
	// blocks (extra), and one block holding both keys (extra_joined). A client must refuse them.
	ExtraKeyURL        string `json:"extra_key_url"`
	ExtraKeyFile       string `json:"extra_key_file"`
	ExtraJoinedKeyURL  string `json:"extra_joined_key_url"`
	ExtraJoinedKeyFile string `json:"extra_joined_key_file"`
}

// SSH holds what a client needs to log in to every host.
type SSH struct {
	User       string `json:"user"`
	ClientKey  string `json:"client_key"`
	KnownHosts string `json:"known_hosts"`
}

// Host is one SSH host of the fleet.
type Host struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	Port      int    `json:"port"`
	Kind      string `json:"kind"`   // "systemd" or "chroot"
	Family    string `json:"family"` // "debian", "rocky" or "suse"
	OSID      string `json:"os_id"`
	VersionID string `json:"version_id"`
	Root      string `json:"root"`
	Jump      string `json:"jump,omitempty"`       // host:port of the jump host to reach it through
	ClientKey string `json:"client_key,omitempty"` // the key to log in with instead of the bed's (a certificate beside it)
}

// Addr is host:port for dialing.
func (h Host) Addr() string { return fmt.Sprintf("%s:%d", h.Address, h.Port) }

// DescriptionPath is where the running bed's description is: $FLEETCTL_TESTBED if set, else
// $TESTBED_DIR/testbed.json, else .testbed/testbed.json at the repository root.
func DescriptionPath() string {
	if p := os.Getenv("FLEETCTL_TESTBED"); p != "" {
		return p
	}
	if d := os.Getenv("TESTBED_DIR"); d != "" {
		return filepath.Join(d, "testbed.json")
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", ".testbed", "testbed.json")
}

// Load reads the description at path.
func Load(path string) (*Bed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test bed description: %w", err)
	}
	var b Bed
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("parse test bed description %s: %w", path, err)
	}
	if b.Version != 1 {
		return nil, fmt.Errorf("test bed description %s: version %d, this code reads version 1", path, b.Version)
	}
	return &b, nil
}

// Require returns the running bed or ends the test: a failure, or a skip only where the environment allows it.
func Require(t testing.TB) *Bed {
	t.Helper()
	path := DescriptionPath()
	b, err := Load(path)
	if err == nil {
		return b
	}
	msg := fmt.Sprintf("test bed not available (%v); bring it up with `sudo test/testbed/up`", err)
	if errors.Is(err, os.ErrNotExist) && skipAllowed() {
		t.Skip(msg + " (skipping: FLEETCTL_ALLOW_SKIP=1)")
	}
	t.Fatal(msg)
	return nil
}

func skipAllowed() bool {
	return os.Getenv("FLEETCTL_ALLOW_SKIP") == "1" && os.Getenv("CI") == ""
}

// HostsOf returns the hosts of the given kind ("" for any) and family ("" for any).
func (b *Bed) HostsOf(kind, family string) []Host {
	var out []Host
	for _, h := range b.Hosts {
		if (kind == "" || h.Kind == kind) && (family == "" || h.Family == family) {
			out = append(out, h)
		}
	}
	return out
}

// Host returns the host with the given name (of Hosts, behind the bastion or with certificates) or ends the test.
func (b *Bed) Host(t testing.TB, name string) Host {
	t.Helper()
	all := b.Hosts
	if b.Bastion != nil {
		all = append(append([]Host{}, all...), b.Bastion.Hosts...)
	}
	if b.Certs != nil {
		all = append(append([]Host{}, all...), b.Certs.Hosts...)
	}
	for _, h := range all {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("test bed has no host %q", name)
	return Host{}
}
