package testbed_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// tlsClient trusts only the bed's CA.
func tlsClient(t *testing.T, bed *testbed.Bed) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(bed.InfluxDBTLS.CAFile)
	if err != nil {
		t.Fatalf("influxdb_tls.ca_file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("influxdb_tls.ca_file %s holds no certificate", bed.InfluxDBTLS.CAFile)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// tlsDo sends one request to the HTTPS InfluxDB as the admin (or with no credentials when user is "").
func tlsDo(t *testing.T, hc *http.Client, method, u, user, pass string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/query") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The second InfluxDB speaks only HTTPS, with a certificate of the bed's CA for the addresses fleetctl and the
// hosts use (and no other name), and requires authentication, as the reference rollout's does.
func TestInfluxDBTLS(t *testing.T) {
	bed := testbed.Require(t)
	ti := bed.InfluxDBTLS
	if !strings.HasPrefix(ti.URL, "https://127.0.0.1:") || !strings.HasPrefix(ti.HostURL, "https://10.") || ti.CAFile == "" || ti.Version == "" {
		t.Fatalf("influxdb_tls in the description: %+v", ti)
	}
	hc := tlsClient(t, bed)
	for _, u := range []string{ti.URL, ti.HostURL} {
		if code, body := tlsDo(t, hc, http.MethodGet, u+"/ping", "", "", nil); code != http.StatusNoContent {
			t.Errorf("GET %s/ping with the bed's CA: HTTP %d %s", u, code, body)
		}
	}
	// The system's roots do not know the bed's CA; the certificate names no "localhost".
	var unknown x509.UnknownAuthorityError
	if _, err := http.Get(ti.URL + "/ping"); !errors.As(err, &unknown) {
		t.Errorf("GET with the system's roots: %v, want an unknown authority", err)
	}
	var hostname x509.HostnameError
	if _, err := hc.Get(strings.Replace(ti.URL, "127.0.0.1", "localhost", 1) + "/ping"); !errors.As(err, &hostname) {
		t.Errorf("GET https://localhost: %v, want a name the certificate lacks", err)
	}
	if resp, err := http.Get(strings.Replace(ti.URL, "https://", "http://", 1) + "/ping"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain http to the https port: HTTP %d, want 400", resp.StatusCode)
		}
	}
	q := []byte(url.Values{"q": {"SHOW DATABASES"}}.Encode())
	if code, _ := tlsDo(t, hc, http.MethodPost, ti.URL+"/query", "", "", q); code != http.StatusUnauthorized {
		t.Errorf("query without credentials: HTTP %d, want 401", code)
	}
	if code, body := tlsDo(t, hc, http.MethodPost, ti.URL+"/query", ti.AdminUser, ti.AdminPassword, q); code != http.StatusOK {
		t.Errorf("query as the admin: HTTP %d %s", code, body)
	}
}

// Kapacitor is subscribed to the HTTPS InfluxDB too: points written there reach a task on that database.
func TestKapacitorSubscribedOverTLS(t *testing.T) {
	bed := testbed.Require(t)
	ti, hc := bed.InfluxDBTLS, tlsClient(t, bed)
	admin := func(stmt string) {
		t.Helper()
		code, body := tlsDo(t, hc, http.MethodPost, ti.URL+"/query", ti.AdminUser, ti.AdminPassword, []byte(url.Values{"q": {stmt}}.Encode()))
		if code != http.StatusOK || bytes.Contains(body, []byte(`"error"`)) {
			t.Fatalf("%s: HTTP %d %s", stmt, code, body)
		}
	}
	db := unique(t, "tls")
	admin(fmt.Sprintf(`CREATE DATABASE "%s"`, db))
	t.Cleanup(func() { admin(fmt.Sprintf(`DROP DATABASE "%s"`, db)) })
	id := unique(t, "tlstask")
	rep := kapacitorCreate(t, bed, map[string]any{"id": id, "type": "stream", "dbrps": []map[string]string{{"db": db, "rp": "autogen"}},
		"script": "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('points')\n", "status": "enabled"})
	if rep.status != http.StatusOK {
		t.Fatalf("create task: HTTP %d %s", rep.status, rep.body)
	}
	out := bed.Kapacitor.URL + "/kapacitor/v1/tasks/" + id + "/points"
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Writes before the subscription exists (about a second after the database) are not forwarded: keep writing.
		if code, body := tlsDo(t, hc, http.MethodPost, ti.URL+"/write?db="+url.QueryEscape(db), ti.AdminUser, ti.AdminPassword,
			[]byte("cpu,host=tb usage_idle=42")); code != http.StatusNoContent {
			t.Fatalf("write over https: HTTP %d %s", code, body)
		}
		rep = mustSend(t, request{method: http.MethodGet, url: out})
		if rep.status == http.StatusOK && bytes.Contains(rep.body, []byte(`"usage_idle"`)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no point reached the task through the HTTPS InfluxDB's subscription within 30s; last GET %s: HTTP %d %s", out, rep.status, rep.body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
