package httpx

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// TLS is how a client checks a server's certificate and, optionally, proves itself with one of its own. The zero
// value verifies against the system's roots and presents no certificate.
type TLS struct {
	CAFile   string // PEM file of the CAs to trust instead of the system roots; "" for the system roots
	CertFile string // PEM client certificate (chain), with KeyFile; both or neither
	KeyFile  string
	// InsecureSkipVerify accepts any certificate for any name: the connection is encrypted but not authenticated.
	InsecureSkipVerify bool
	// Key is the inventory section the settings come from ("influxdb"), named in the fixes of errors.
	Key string
}

// IsZero reports whether t changes nothing from Go's defaults.
func (t TLS) IsZero() bool {
	return t.CAFile == "" && t.CertFile == "" && t.KeyFile == "" && !t.InsecureSkipVerify
}

// trust names what verifies the server, for messages.
func (t TLS) trust() string {
	if t.CAFile != "" {
		return "the CA in " + t.CAFile
	}
	return "the system's roots"
}

// key is the inventory key of one setting, for fixes.
func (t TLS) key(setting string) string {
	if t.Key == "" {
		return setting
	}
	return t.Key + "." + setting
}

// Config loads t's files into a tls.Config (TLS 1.2 at least).
func (t TLS) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		raw, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", t.key("ca_file"), t.CAFile, err)
		}
		certs, err := ParseCertificates(raw)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", t.key("ca_file"), t.CAFile, err)
		}
		c.RootCAs = x509.NewCertPool()
		for _, cert := range certs {
			c.RootCAs.AddCert(cert)
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s %s with %s %s: %w", t.key("cert_file"), t.CertFile, t.key("key_file"), t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{pair}
	case t.CertFile != "" || t.KeyFile != "":
		return nil, fmt.Errorf("%s and %s go together: set both, or neither", t.key("cert_file"), t.key("key_file"))
	}
	return c, nil
}

// ParseCertificates reads every certificate of a PEM file and refuses one that holds none, or anything but
// CERTIFICATE blocks (a private key in a CA file is a mistake worth stopping on).
func ParseCertificates(raw []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := raw
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a PEM block %q: want only CERTIFICATE blocks (the CA's certificate, not a key)", b.Type)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("not a PEM certificate: no -----BEGIN CERTIFICATE----- block")
	}
	return certs, nil
}

// DescribeCertificates is one line per certificate of a PEM file for plans: subject, expiry and SHA-256
// fingerprint (short). Unparsable content says so.
func DescribeCertificates(raw []byte) string {
	certs, err := ParseCertificates(raw)
	if err != nil {
		return "not a certificate: " + err.Error()
	}
	var parts []string
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		parts = append(parts, fmt.Sprintf("certificate %q, expires %s, sha256 %s", c.Subject.String(),
			c.NotAfter.UTC().Format("2006-01-02"), hex.EncodeToString(sum[:8])))
	}
	return strings.Join(parts, "; ")
}

// Client returns hc (nil: a client with DefaultTimeout) pinned to its origin (see Pin), with t's TLS settings on a
// copy of its transport, and with every failure to verify the server's certificate reported as a *TLSError naming
// server. hc's transport must be nil or an *http.Transport when t sets anything.
func Client(server string, hc *http.Client, t TLS) (*http.Client, error) {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = DefaultTimeout
	}
	rt := c.Transport
	if !t.IsZero() {
		base, ok := rt.(*http.Transport)
		switch {
		case rt == nil:
			base = http.DefaultTransport.(*http.Transport).Clone()
		case ok:
			base = base.Clone()
		default:
			return nil, fmt.Errorf("%s: TLS settings need a plain *http.Transport, not %T", server, rt)
		}
		cfg, err := t.Config()
		if err != nil {
			return nil, err
		}
		base.TLSClientConfig = cfg
		rt = base
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &tlsNamer{next: rt, server: server, t: t}
	return Pin(&c), nil
}

// tlsNamer turns the TLS failures of a round trip into *TLSError.
type tlsNamer struct {
	next   http.RoundTripper
	server string
	t      TLS
}

func (n *tlsNamer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(req)
	if err != nil {
		if te := tlsError(n.server, Origin(req.URL), n.t, err); te != nil {
			return nil, te
		}
	}
	return resp, err
}

// TLSError is a server whose TLS fleetctl refused (or could not speak): what the server presented, why it is not
// trusted, and which setting fixes it.
type TLSError struct {
	Server string // "influxdb", "grafana", "kapacitor"
	Origin string // https://host:port
	Reason string
	Fix    string
	Err    error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("%s at %s: %s; %s", e.Server, e.Origin, e.Reason, e.Fix)
}

func (e *TLSError) Unwrap() error { return e.Err }

// IsTLS reports whether err is, or wraps, a *TLSError.
func IsTLS(err error) bool {
	var te *TLSError
	return errors.As(err, &te)
}

// tlsError classifies err; nil when it is no TLS failure.
func tlsError(server, origin string, t TLS, err error) *TLSError {
	te := &TLSError{Server: server, Origin: origin, Err: err}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		verify   *tls.CertificateVerificationError
	)
	presented := ""
	if errors.As(err, &verify) && len(verify.UnverifiedCertificates) > 0 {
		leaf := verify.UnverifiedCertificates[0]
		presented = fmt.Sprintf("its certificate (subject %q, issuer %q)", leaf.Subject.String(), leaf.Issuer.String())
	}
	switch {
	case errors.As(err, &hostname):
		names := hostname.Certificate.DNSNames
		for _, ip := range hostname.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		te.Reason = fmt.Sprintf("the certificate is not valid for %q: it names %s", hostname.Host, strings.Join(names, ", "))
		if len(names) == 0 {
			te.Reason = fmt.Sprintf("the certificate is not valid for %q: it names no host (only a common name %q, which is not checked)", hostname.Host, hostname.Certificate.Subject.CommonName)
		}
		te.Fix = fmt.Sprintf("write %s with a name the certificate holds, or give the server a certificate for %q", t.key("url"), hostname.Host)
	case errors.As(err, &unknown):
		if presented == "" && unknown.Cert != nil {
			presented = fmt.Sprintf("its certificate (subject %q, issuer %q)", unknown.Cert.Subject.String(), unknown.Cert.Issuer.String())
		}
		te.Reason = fmt.Sprintf("%s is not signed by %s", orWord(presented, "its certificate"), t.trust())
		te.Fix = fmt.Sprintf("set %s to the PEM file of the CA that issued it", t.key("ca_file"))
		if t.CAFile != "" {
			te.Fix = fmt.Sprintf("make %s the PEM file of the CA that issued it", t.key("ca_file"))
		}
	case errors.As(err, &invalid):
		te.Reason = fmt.Sprintf("%s is not acceptable: %v", orWord(presented, "its certificate"), invalid)
		te.Fix = "renew or reissue the server's certificate"
		if invalid.Reason == x509.Expired {
			te.Fix = "renew the server's certificate (or check this machine's clock)"
		}
	case errors.As(err, &record):
		te.Reason = "it does not answer in TLS (plain http on that port?)"
		te.Fix = fmt.Sprintf("write %s with http://, or enable https on the server", t.key("url"))
	case strings.Contains(err.Error(), "remote error: tls: "):
		msg := err.Error()
		te.Reason = "the server ended the TLS handshake (" + msg[strings.Index(msg, "remote error: tls: "):] + ")"
		te.Fix = "check the server's TLS settings (versions, ciphers) against TLS 1.2 or later"
		if strings.Contains(msg, "certificate") {
			te.Fix = fmt.Sprintf("it wants a client certificate it trusts: set %s and %s", t.key("cert_file"), t.key("key_file"))
			if t.CertFile != "" {
				te.Fix = fmt.Sprintf("it does not accept %s %s: use a client certificate its CA signed", t.key("cert_file"), t.CertFile)
			}
		}
	case errors.As(err, &verify):
		te.Reason = fmt.Sprintf("%s was refused: %v", orWord(presented, "its certificate"), verify.Err)
		te.Fix = fmt.Sprintf("check %s against the server's certificate", t.key("ca_file"))
	default:
		return nil
	}
	return te
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}
