// Command receivers is the test bed's catcher of alert notifications: one HTTP server on loopback that records
// every request Kapacitor's handlers send, one JSON line per request, where the tests read them.
//
//   - /webhook/NAME: any POST, as a company's own endpoint would take Kapacitor's post handler (the alert as JSON).
//   - /pushover/1/messages.json: a hand-written FAKE of Pushover's message API (https://pushover.net/api), not
//     Pushover: it takes the documented form fields (token, user, message, title, priority, url, url_title,
//     sound, device, timestamp), refuses a request without token, user or message with 400 and Pushover's error
//     shape ({"status":0,"errors":[...]}), and answers {"status":1,"request":ID} otherwise.
//   - /slack/NAME: a hand-written FAKE of a Slack incoming webhook (https://api.slack.com/messaging/webhooks), not
//     Slack: it takes a JSON body with text or attachments (and channel, username, icon_emoji), refuses anything
//     else with 400 "invalid_payload" and answers "ok" as Slack does.
//   - /healthz: 200, for the bed to wait on.
//
// Each accepted or refused request is appended to DIR/KIND.jsonl (KIND: webhook, pushover, slack) as
// {"path", "status", "content_type", "headers", "form" or "json" or "body"}. Mail is not received here: the
// bed runs Debian's aiosmtpd as its SMTP server.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Record is one request as written to the kind's file.
type Record struct {
	Time        time.Time           `json:"time"`
	Path        string              `json:"path"`
	Status      int                 `json:"status"`
	ContentType string              `json:"content_type"`
	Headers     map[string]string   `json:"headers"`
	Form        map[string][]string `json:"form,omitempty"`
	JSON        any                 `json:"json,omitempty"`
	Body        string              `json:"body,omitempty"`
}

type recorder struct {
	dir string
	mu  sync.Mutex
}

func (r *recorder) write(kind string, rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.Marshal(rec)
	if err != nil {
		log.Printf("encode %s record: %v", kind, err)
		return
	}
	f, err := os.OpenFile(filepath.Join(r.dir, kind+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Printf("record %s: %v", kind, err)
		return
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		log.Printf("record %s: %v", kind, err)
	}
}

func newRecord(req *http.Request, body []byte) Record {
	rec := Record{Time: time.Now().UTC(), Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Headers: map[string]string{}}
	for k := range req.Header {
		rec.Headers[k] = req.Header.Get(k)
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		rec.JSON = v
	} else {
		rec.Body = string(body)
	}
	return rec
}

func main() {
	addr := flag.String("addr", "127.0.0.1:19300", "listen address")
	dir := flag.String("dir", "", "directory the records are appended to")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: newMux(&recorder{dir: *dir}), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("receivers on %s, records in %s", *addr, *dir)
	log.Fatal(srv.ListenAndServe())
}

// newMux serves the receivers, recording into rec.
func newMux(rec *recorder) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/webhook/", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r := newRecord(req, body)
		r.Status = http.StatusOK
		if req.Method != http.MethodPost {
			r.Status = http.StatusMethodNotAllowed
		}
		rec.write("webhook", r)
		w.WriteHeader(r.Status)
	})
	mux.HandleFunc("/pushover/1/messages.json", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r := newRecord(req, body)
		r.JSON, r.Body = nil, ""
		form, err := url.ParseQuery(string(body))
		var errs []string
		switch {
		case req.Method != http.MethodPost:
			errs = append(errs, "method must be POST")
		case err != nil:
			errs = append(errs, "body is not form-encoded")
		default:
			r.Form = form
			for _, f := range []string{"token", "user", "message"} {
				if form.Get(f) == "" {
					errs = append(errs, f+" must be supplied")
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if len(errs) > 0 {
			r.Status = http.StatusBadRequest
			rec.write("pushover", r)
			w.WriteHeader(r.Status)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": 0, "errors": errs, "request": requestID()})
			return
		}
		r.Status = http.StatusOK
		rec.write("pushover", r)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": 1, "request": requestID()})
	})
	mux.HandleFunc("/slack/", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r := newRecord(req, body)
		m, ok := r.JSON.(map[string]any)
		valid := req.Method == http.MethodPost && ok && (m["text"] != nil || m["attachments"] != nil)
		r.Status = http.StatusOK
		if !valid {
			r.Status = http.StatusBadRequest
		}
		rec.write("slack", r)
		w.WriteHeader(r.Status)
		if valid {
			fmt.Fprint(w, "ok")
		} else {
			fmt.Fprint(w, "invalid_payload")
		}
	})
	return mux
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
