package inventory

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLS is a server's TLS settings (in [influxdb], [grafana] and [kapacitor]): how fleetctl checks the certificate
// the server presents on https, and the client certificate it presents in turn.
type TLS struct {
	CAFile   string // absolute path of the PEM CA certificate(s) to trust instead of the system's roots; "" for the roots
	CertFile string // absolute path of a PEM client certificate, with KeyFile; both or neither
	KeyFile  string
	// InsecureSkipVerify accepts any certificate: warned about on every run and in every plan.
	InsecureSkipVerify bool
}

// tls reads a server section's TLS keys; url is the section's checked URL ("" when invalid).
func (b *builder) tls(t *table, url string) TLS {
	var s TLS
	path := func(k string) string {
		v, ok := t.str(k)
		if !ok {
			return ""
		}
		p, err := expandPath(v, b.inv.Dir, b.inv.home)
		if v == "" {
			err = errEmptyPath
		}
		if err != nil {
			t.errorf(k, pathFix(err), "%v", err)
			return ""
		}
		return p
	}
	s.CAFile, s.CertFile, s.KeyFile = path("ca_file"), path("cert_file"), path("key_file")
	if v, ok := t.boolean("insecure_skip_verify"); ok {
		s.InsecureSkipVerify = v
	}
	if s.CAFile != "" {
		if _, err := readCertificates(s.CAFile); err != nil {
			t.errorf("ca_file", "point it at the PEM certificate (-----BEGIN CERTIFICATE-----) of the CA that signed the server's certificate", "%v", err)
		}
	}
	if s.CertFile != "" {
		if _, err := readCertificates(s.CertFile); err != nil {
			t.errorf("cert_file", "point it at the PEM client certificate, and key_file at its key", "%v", err)
		}
	}
	switch {
	case t.has("cert_file") != t.has("key_file"):
		if t.has("cert_file") {
			t.errorf("key_file", "add key_file, the private key of cert_file, or remove cert_file", "required with cert_file")
		} else {
			t.errorf("cert_file", "add cert_file, the client certificate of key_file, or remove key_file", "required with key_file")
		}
	case s.InsecureSkipVerify && t.has("ca_file"):
		t.errorf("insecure_skip_verify", "keep ca_file and remove insecure_skip_verify", "insecure_skip_verify would ignore ca_file")
	}
	if strings.HasPrefix(url, "http://") {
		for _, k := range []string{"ca_file", "cert_file", "key_file", "insecure_skip_verify"} {
			if t.has(k) {
				t.errorf(k, "write url with https://, or remove "+k, "url is plain http: %s has no effect", k)
				break
			}
		}
	}
	return s
}

// readCertificates reads a PEM file that must hold certificates and nothing else.
func readCertificates(path string) ([]*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := raw
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s holds a PEM block %q, not only certificates", path, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s is not a PEM certificate: %w", path, errNoCertificate)
	}
	return certs, nil
}

var errNoCertificate = errors.New("no -----BEGIN CERTIFICATE----- block")

// agentCA reads [influxdb]'s agent_ca_file: the CA the agents trust for agent_url, defaulting to ca_file when
// agent_url is https. It returns the path and the PEM content ("" and nil when the agents use their system roots).
func (b *builder) agentCA(t *table, in *InfluxDB) (string, []byte) {
	p := in.TLS.CAFile
	if v, ok := t.str("agent_ca_file"); ok {
		var err error
		p, err = expandPath(v, b.inv.Dir, b.inv.home)
		if v == "" {
			err = errEmptyPath
		}
		if err != nil {
			t.errorf("agent_ca_file", pathFix(err), "%v", err)
			return "", nil
		}
		if strings.HasPrefix(in.AgentURL, "http://") {
			t.errorf("agent_ca_file", "write agent_url with https://, or remove agent_ca_file", "agent_url is plain http: agent_ca_file has no effect")
			return "", nil
		}
	} else if !strings.HasPrefix(in.AgentURL, "https://") {
		return "", nil
	}
	if p == "" {
		return "", nil
	}
	if _, err := readCertificates(p); err != nil {
		if t.has("agent_ca_file") {
			t.errorf("agent_ca_file", "point it at the PEM certificate of the CA that signed the certificate of agent_url's server", "%v", err)
		}
		return "", nil // ca_file's own error is reported already
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return "", nil
	}
	return p, raw
}
