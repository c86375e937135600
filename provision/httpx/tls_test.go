package httpx_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/httpx"
	"github.com/fleetctl/fleetctl/provision/httpx/tlstest"
)

// tlsServer serves "ok" over TLS with a certificate of ca for names; clientCA, when set, demands a client
// certificate it signed.
func tlsServer(t *testing.T, ca *tlstest.CA, clientCA *tlstest.CA, names ...string) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			who = " " + r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = io.WriteString(w, "ok"+who)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, names...)}}
	if clientCA != nil {
		s.TLS.ClientAuth, s.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clientCA.Pool()
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, hc *http.Client, url string) (string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	resp, err := httpx.Do(hc, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func client(t *testing.T, cfg httpx.TLS) *http.Client {
	t.Helper()
	cfg.Key = "influxdb"
	hc, err := httpx.Client("influxdb", nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// A server is trusted through the CA file given for it, and refused with an error naming the server, what it
// presented and the setting to fix when it is signed by another CA, when the system's roots are asked, or when it
// is reached by a name its certificate lacks.
func TestClientVerifiesAgainstCAFile(t *testing.T) {
	dir := t.TempDir()
	ca, other := tlstest.NewCA(t, "fleet test CA"), tlstest.NewCA(t, "another CA")
	caFile, otherFile := ca.WriteFile(t, dir, "ca.pem"), other.WriteFile(t, dir, "other.pem")
	s := tlsServer(t, ca, nil, "127.0.0.1")
	port := s.URL[strings.LastIndex(s.URL, ":"):]

	if got, err := get(t, client(t, httpx.TLS{CAFile: caFile}), s.URL); err != nil || got != "ok" {
		t.Fatalf("with the right CA: %q, %v", got, err)
	}
	for _, c := range []struct {
		name string
		cfg  httpx.TLS
		url  string
		want []string
	}{
		{"another CA", httpx.TLS{CAFile: otherFile}, s.URL, []string{"influxdb at " + s.URL, `issuer "CN=fleet test CA"`,
			"not signed by the CA in " + otherFile, "make influxdb.ca_file the PEM file of the CA that issued it"}},
		{"system roots", httpx.TLS{}, s.URL, []string{"influxdb at " + s.URL, "not signed by the system's roots", "set influxdb.ca_file"}},
		{"name not in the certificate", httpx.TLS{CAFile: caFile}, "https://localhost" + port, []string{"influxdb at https://localhost" + port,
			`not valid for "localhost": it names 127.0.0.1`, "write influxdb.url with a name the certificate holds"}},
	} {
		_, err := get(t, client(t, c.cfg), c.url)
		var te *httpx.TLSError
		if !errors.As(err, &te) || !httpx.IsTLS(err) {
			t.Errorf("%s: want a *TLSError, got %T %v", c.name, err, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q:\n%v", c.name, w, err)
			}
		}
	}
}

// insecure_skip_verify accepts a certificate no configured CA signed, for a name it lacks.
func TestClientInsecureSkipVerify(t *testing.T) {
	s := tlsServer(t, tlstest.NewCA(t, "unknown CA"), nil, "192.0.2.1")
	if got, err := get(t, client(t, httpx.TLS{InsecureSkipVerify: true}), s.URL); err != nil || got != "ok" {
		t.Fatalf("insecure_skip_verify: %q, %v", got, err)
	}
}

// A server demanding a client certificate gets the configured one; without it the error says which settings give one.
func TestClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, clients := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA")
	caFile := ca.WriteFile(t, dir, "ca.pem")
	certFile, keyFile := tlstest.WritePair(t, clients.Client(t, "fleetctl"), dir, "client")
	s := tlsServer(t, ca, clients, "127.0.0.1")

	if got, err := get(t, client(t, httpx.TLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}), s.URL); err != nil || got != "ok fleetctl" {
		t.Fatalf("with a client certificate: %q, %v", got, err)
	}
	_, err := get(t, client(t, httpx.TLS{CAFile: caFile}), s.URL)
	if !httpx.IsTLS(err) || !strings.Contains(err.Error(), "it wants a client certificate it trusts: set influxdb.cert_file and influxdb.key_file") {
		t.Fatalf("without a client certificate: %v", err)
	}
	// A client certificate of another CA is refused by the server, and said so.
	otherCert, otherKey := tlstest.WritePair(t, tlstest.NewCA(t, "stranger").Client(t, "x"), dir, "stranger")
	_, err = get(t, client(t, httpx.TLS{CAFile: caFile, CertFile: otherCert, KeyFile: otherKey}), s.URL)
	if !httpx.IsTLS(err) || !strings.Contains(err.Error(), "it does not accept influxdb.cert_file "+otherCert) {
		t.Fatalf("with a client certificate of another CA: %v", err)
	}
	if _, err := httpx.Client("influxdb", nil, httpx.TLS{Key: "influxdb", CertFile: certFile}); err == nil ||
		!strings.Contains(err.Error(), "influxdb.cert_file and influxdb.key_file go together") {
		t.Fatalf("cert_file without key_file: %v", err)
	}
}

// A plain http server at an https URL is named as such.
func TestClientPlainServerAtHTTPS(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(s.Close)
	url := strings.Replace(s.URL, "http://", "https://", 1)
	_, err := get(t, client(t, httpx.TLS{}), url)
	if !httpx.IsTLS(err) || !strings.Contains(err.Error(), "does not answer in TLS") || !strings.Contains(err.Error(), "influxdb.url with http://") {
		t.Fatalf("plain server at https: %v", err)
	}
}

// The TLS client is still pinned: a redirect to another origin is refused.
func TestClientIsPinned(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	other := tlsServer(t, ca, nil, "127.0.0.1")
	s := httptest.NewUnstartedServer(http.RedirectHandler(other.URL+"/x", http.StatusFound))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "127.0.0.1")}}
	s.StartTLS()
	t.Cleanup(s.Close)
	_, err := get(t, client(t, httpx.TLS{CAFile: ca.WriteFile(t, dir, "ca.pem")}), s.URL)
	if !errors.Is(err, httpx.ErrRedirect) {
		t.Fatalf("redirect to another origin: %v", err)
	}
}

// A CA file must hold certificates and only certificates.
func TestParseCertificates(t *testing.T) {
	ca := tlstest.NewCA(t, "CA")
	dir := t.TempDir()
	_, keyFile := tlstest.WritePair(t, ca.Server(t, "x"), dir, "srv")
	key, _ := os.ReadFile(keyFile)
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"certificate", ca.PEM, ""},
		{"two certificates", append(append([]byte{}, ca.PEM...), tlstest.NewCA(t, "B").PEM...), ""},
		{"empty", nil, "no -----BEGIN CERTIFICATE----- block"},
		{"text", []byte("hello\n"), "not a PEM certificate"},
		{"a key", key, `PEM block "PRIVATE KEY"`},
		{"broken", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1:"},
	} {
		_, err := httpx.ParseCertificates(c.raw)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if d := httpx.DescribeCertificates(ca.PEM); !strings.Contains(d, `certificate "CN=CA", expires `) || !strings.Contains(d, "sha256 ") {
		t.Errorf("description: %s", d)
	}
	if _, err := httpx.Client("grafana", nil, httpx.TLS{Key: "grafana", CAFile: filepath.Join(dir, "srv-key.pem")}); err == nil ||
		!strings.Contains(err.Error(), "grafana.ca_file "+keyFile) {
		t.Errorf("a key as ca_file: %v", err)
	}
}

// A custom transport cannot take TLS settings, and is kept as it is without them.
func TestClientTransport(t *testing.T) {
	custom := &http.Client{Transport: roundTripper(func(*http.Request) (*http.Response, error) { return nil, errors.New("custom") })}
	if _, err := httpx.Client("kapacitor", custom, httpx.TLS{InsecureSkipVerify: true}); err == nil {
		t.Fatal("a custom transport took TLS settings")
	}
	hc, err := httpx.Client("kapacitor", custom, httpx.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, hc, "http://127.0.0.1:1/"); err == nil || !strings.Contains(err.Error(), "custom") {
		t.Fatalf("custom transport not used: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
