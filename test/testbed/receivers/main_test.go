package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func records(t *testing.T, dir, kind string) []Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, kind+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestFakesFollowTheDocumentedFormats: Pushover's fake takes a form with token, user and message and refuses one
// without them in Pushover's error shape; Slack's takes JSON with text or attachments and answers "ok"; the
// webhook records any POST; every request is recorded.
func TestFakesFollowTheDocumentedFormats(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(newMux(&recorder{dir: dir}))
	defer srv.Close()
	post := func(path, ctype, body string) (int, string) {
		resp, err := http.Post(srv.URL+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		return resp.StatusCode, b.String()
	}
	form := url.Values{"token": {"tok"}, "user": {"uKEY"}, "message": {"CRITICAL - x"}}.Encode()
	if code, body := post("/pushover/1/messages.json", "application/x-www-form-urlencoded", form); code != 200 || !strings.Contains(body, `"status":1`) {
		t.Errorf("pushover accepted: %d %s", code, body)
	}
	if code, body := post("/pushover/1/messages.json", "application/x-www-form-urlencoded", "token=tok"); code != 400 || !strings.Contains(body, `"status":0`) || !strings.Contains(body, "user must be supplied") {
		t.Errorf("pushover refused: %d %s", code, body)
	}
	if code, body := post("/slack/w", "application/json", `{"channel":"#a","attachments":[{"text":"CRITICAL - x"}]}`); code != 200 || body != "ok" {
		t.Errorf("slack accepted: %d %s", code, body)
	}
	if code, body := post("/slack/w", "application/json", `{"channel":"#a"}`); code != 400 || body != "invalid_payload" {
		t.Errorf("slack refused: %d %s", code, body)
	}
	if code, _ := post("/webhook/company", "application/json", `{"id":"Probe - h","level":"CRITICAL"}`); code != 200 {
		t.Errorf("webhook: %d", code)
	}
	if p := records(t, dir, "pushover"); len(p) != 2 || p[0].Form["user"][0] != "uKEY" || p[1].Status != 400 {
		t.Errorf("pushover records: %+v", p)
	}
	if s := records(t, dir, "slack"); len(s) != 2 || s[0].Path != "/slack/w" {
		t.Errorf("slack records: %+v", s)
	}
	if w := records(t, dir, "webhook"); len(w) != 1 || w[0].JSON.(map[string]any)["level"] != "CRITICAL" {
		t.Errorf("webhook records: %+v", w)
	}
}
