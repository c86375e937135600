package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx/tlstest"
)

// tlsBase is base with https servers and the TLS keys given for each section (inserted after its url).
func tlsBase(influx, grafana, kapacitor string) string {
	s := strings.Replace(base, `url = "http://127.0.0.1:8086"`, `url = "https://influx.example:8086"`+"\n"+influx, 1)
	s = strings.Replace(s, `url = "http://127.0.0.1:3000"`, `url = "https://grafana.example:3000"`+"\n"+grafana, 1)
	return strings.Replace(s, `url = "http://127.0.0.1:9092"`, `url = "https://kapacitor.example:9092"`+"\n"+kapacitor, 1) +
		"[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.1\"\n"
}

// Each server's TLS settings are read relative to the inventory's folder; the agents trust ca_file when agent_url
// is https, or their own agent_ca_file, and get the CA's content.
func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	ca, agents := tlstest.NewCA(t, "fleet CA"), tlstest.NewCA(t, "agents CA")
	ca.WriteFile(t, dir, "ca.pem")
	agents.WriteFile(t, dir, "agents.pem")
	cert, key := tlstest.WritePair(t, ca.Client(t, "fleetctl"), dir, "client")

	inv, err := Parse("inventory.toml", []byte(tlsBase(`ca_file = "ca.pem"`, `insecure_skip_verify = true`,
		`ca_file = "ca.pem"`+"\ncert_file = \"client.pem\"\nkey_file = \"client-key.pem\"")), dir, env())
	if err != nil {
		t.Fatal(err)
	}
	if inv.InfluxDB.TLS != (TLS{CAFile: filepath.Join(dir, "ca.pem")}) || !inv.Grafana.TLS.InsecureSkipVerify ||
		inv.Kapacitor.TLS != (TLS{CAFile: filepath.Join(dir, "ca.pem"), CertFile: cert, KeyFile: key}) {
		t.Errorf("TLS settings: %+v %+v %+v", inv.InfluxDB.TLS, inv.Grafana.TLS, inv.Kapacitor.TLS)
	}
	if inv.InfluxDB.AgentCAFile != filepath.Join(dir, "ca.pem") || !bytes.Equal(inv.InfluxDB.AgentCA, ca.PEM) {
		t.Errorf("agents' CA defaults to ca_file: %q", inv.InfluxDB.AgentCAFile)
	}

	inv, err = Parse("inventory.toml", []byte(tlsBase(`ca_file = "ca.pem"`+"\nagent_ca_file = \"agents.pem\"", "", "")), dir, env())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inv.InfluxDB.AgentCA, agents.PEM) {
		t.Errorf("agent_ca_file not used: %q", inv.InfluxDB.AgentCAFile)
	}

	// Plain http agents get no CA, even when fleetctl's own URL has one.
	inv, err = Parse("inventory.toml", []byte(tlsBase(`ca_file = "ca.pem"`+"\nagent_url = \"http://10.0.0.9:8086\"", "", "")), dir, env())
	if err != nil {
		t.Fatal(err)
	}
	if inv.InfluxDB.AgentCAFile != "" || inv.InfluxDB.AgentCA != nil {
		t.Errorf("http agents got a CA: %q", inv.InfluxDB.AgentCAFile)
	}
}

// A ca_file that is not a certificate, and every inconsistent combination, is refused at its line with the fix.
func TestTLSErrors(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "fleet CA")
	ca.WriteFile(t, dir, "ca.pem")
	_, keyFile := tlstest.WritePair(t, ca.Server(t, "x"), dir, "srv")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a cert\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, influx, grafana, kapacitor string
		want                             []string
	}{
		{"text as ca_file", `ca_file = "notes.txt"`, "", "", []string{"inventory.toml:3: influxdb.ca_file: " + filepath.Join(dir, "notes.txt") +
			" is not a PEM certificate: no -----BEGIN CERTIFICATE----- block (point it at the PEM certificate (-----BEGIN CERTIFICATE-----) of the CA"}},
		{"a key as ca_file", "", `ca_file = "srv-key.pem"`, "", []string{"grafana.ca_file: " + keyFile + ` holds a PEM block "PRIVATE KEY", not only certificates`}},
		{"missing ca_file", "", "", `ca_file = "nope.pem"`, []string{"kapacitor.ca_file: open " + filepath.Join(dir, "nope.pem") + ": no such file or directory"}},
		{"cert without key", `cert_file = "ca.pem"`, "", "", []string{"influxdb.key_file: required with cert_file"}},
		{"key as cert", "", "", `cert_file = "srv-key.pem"` + "\nkey_file = \"srv-key.pem\"", []string{"kapacitor.cert_file: " + keyFile + ` holds a PEM block`}},
		{"insecure with ca", `ca_file = "ca.pem"` + "\ninsecure_skip_verify = true", "", "", []string{"influxdb.insecure_skip_verify: insecure_skip_verify would ignore ca_file (keep ca_file"}},
		{"agent CA not a cert", `agent_ca_file = "notes.txt"`, "", "", []string{"influxdb.agent_ca_file: " + filepath.Join(dir, "notes.txt") + " is not a PEM certificate"}},
		{"agent CA for http agents", `agent_url = "http://10.0.0.9:8086"` + "\nagent_ca_file = \"ca.pem\"", "", "", []string{"influxdb.agent_ca_file: agent_url is plain http: agent_ca_file has no effect (write agent_url with https://"}},
		{"wrong type", `insecure_skip_verify = "yes"`, "", "", []string{"influxdb.insecure_skip_verify: must be a boolean"}},
	} {
		_, err := Parse("inventory.toml", []byte(tlsBase(c.influx, c.grafana, c.kapacitor)), dir, env())
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", c.name, w, err)
			}
		}
	}
	// TLS keys on a plain http URL are a mistake.
	src := strings.Replace(base, `url = "http://127.0.0.1:8086"`, `url = "http://127.0.0.1:8086"`+"\nca_file = \"ca.pem\"", 1)
	if _, err := Parse("inventory.toml", []byte(src), dir, env()); err == nil || !strings.Contains(err.Error(),
		"influxdb.ca_file: url is plain http: ca_file has no effect (write url with https://, or remove ca_file)") {
		t.Errorf("ca_file with an http url: %v", err)
	}
}
