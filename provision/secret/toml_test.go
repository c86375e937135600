package secret

import (
	"fmt"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestMaskTOML: every way TOML can spell a secret-named key or hide a secret in a value is masked, and everything
// else is left as written. The secret values all contain "SECRET" (upper case), so a leak is easy to see.
func TestMaskTOML(t *testing.T) {
	m := NewMasker()
	m.Add(New("known-SECRET-1"), New(`q"uote-SECRET`))
	cases := []struct {
		name, in, want string
		keys           []string
	}{
		{"bare key", "password = \"p-SECRET\"\nx = 1\n", "password = \"(sensitive)\"\nx = 1\n", nil},
		{"quoted key", "\"password\" = \"p-SECRET\"\n", "\"password\" = \"(sensitive)\"\n", nil},
		{"literal key and value", "'password' = 'p-SECRET'\n", "'password' = \"(sensitive)\"\n", nil},
		{"escaped key", "\"pass\\u0077ord\" = \"p-SECRET\"\n", "\"pass\\u0077ord\" = \"(sensitive)\"\n", nil},
		{"spaces around", "  password   =   \"p-SECRET\"   # the agent's\n", "  password   =   \"(sensitive)\"   # the agent's\n", nil},
		{"dotted key", "outputs.influxdb.password = \"p-SECRET\"\n", "outputs.influxdb.password = \"(sensitive)\"\n", nil},
		{"dotted key with quotes", "[outputs]\ninfluxdb . \"password\" = \"p-SECRET\"\n", "[outputs]\ninfluxdb . \"password\" = \"(sensitive)\"\n", nil},
		{"array of tables", "[[outputs.influxdb]]\n  urls = [\"http://h:8086\"]\n  database = \"web1\"\n  password = \"p-SECRET\"\n",
			"[[outputs.influxdb]]\n  urls = [\"http://h:8086\"]\n  database = \"web1\"\n  password = \"(sensitive)\"\n", nil},
		{"inline table", "creds = { user = \"u\", password = \"p-SECRET\" }\n", "creds = { user = \"u\", password = \"(sensitive)\" }\n", nil},
		{"inline tables in an array", "a = [ { password = 'p-SECRET' }, { b = 2 } ]\n", "a = [ { password = \"(sensitive)\" }, { b = 2 } ]\n", nil},
		{"multi-line basic string", "password = \"\"\"\np-SECRET\n\"\"\"\nx = 1\n", "password = \"(sensitive)\"\nx = 1\n", nil},
		{"multi-line literal string", "password = '''p-'SECRET'''\n", "password = \"(sensitive)\"\n", nil},
		{"array value", "tokens = [\n  \"a-SECRET\", # first\n  \"b-SECRET\",\n]\n", "tokens = \"(sensitive)\"\n", nil},
		{"number", "password = 123456\n", "password = \"(sensitive)\"\n", nil},
		{"table named like a credential", "[inputs.http.headers]\nAuthorization = \"Bearer a-SECRET\"\nX-Other = \"fine\"\n",
			"[inputs.http.headers]\nAuthorization = \"(sensitive)\"\nX-Other = \"fine\"\n", nil},
		{"credential table", "[auth]\nuser = \"u-SECRET\"\n", "[auth]\nuser = \"(sensitive)\"\n", nil},
		{"other spellings", "API-Key = \"a-SECRET\"\naccess_key_id = \"b-SECRET\"\nPASSWD = \"c-SECRET\"\nbearer_token_string = \"d-SECRET\"\nsecret_key = \"e-SECRET\"\npass = \"f-SECRET\"\n",
			"API-Key = \"(sensitive)\"\naccess_key_id = \"(sensitive)\"\nPASSWD = \"(sensitive)\"\nbearer_token_string = \"(sensitive)\"\nsecret_key = \"(sensitive)\"\npass = \"(sensitive)\"\n", nil},
		{"a key the file declares secret", "my_value = \"v-SECRET\"\nother = \"o\"\n", "my_value = \"(sensitive)\"\nother = \"o\"\n", []string{"my_value"}},
		{"a known secret under any key, escaped", "note = \"known-\\u0053ECRET-1\"\nq = \"q\\\"uote-SECRET\"\n", "note = \"(sensitive)\"\nq = \"(sensitive)\"\n", nil},
		{"a known secret in a comment", "# was known-SECRET-1\n", "# was (sensitive)\n", nil},
		{"credentials inside values", "urls = [\"http://u:p-SECRET@h:8086\", \"http://h:8086\"]\naddress = \"host=db user=u password=p-SECRET\"\nservers = [\"root:p-SECRET@tcp(127.0.0.1:3306)/\"]\n",
			"urls = [\"(sensitive)\", \"http://h:8086\"]\naddress = \"(sensitive)\"\nservers = [\"(sensitive)\"]\n", nil},
		{"commented-out credentials", "#  password = \"old-SECRET\"\n# token: t-SECRET\n[a] # api_key = k-SECRET\n",
			"#  password = \"(sensitive)\"\n# token: \"(sensitive)\"\n[a] # api_key = \"(sensitive)\"\n", nil},
		{"hash inside a string", "password = \"a#b-SECRET\"\nurl = \"http://h/#x\"\n", "password = \"(sensitive)\"\nurl = \"http://h/#x\"\n", nil},
		{"crlf", "password = \"p-SECRET\"\r\nx = 1\r\n", "password = \"(sensitive)\"\r\nx = 1\r\n", nil},
		{"every kind of value", everyKind, everyKind, nil},
		{"nothing secret", "[agent]\n  interval = \"10s\"\n  hostname = \"web1\"\n  when = 1979-05-27 07:32:00Z\n",
			"[agent]\n  interval = \"10s\"\n  hostname = \"web1\"\n  when = 1979-05-27 07:32:00Z\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := m.MaskTOML(c.in, c.keys...)
			if got != c.want {
				t.Errorf("MaskTOML:\n%s\nwant:\n%s", got, c.want)
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("a secret survived:\n%s", got)
			}
			// What is not masked reads back as it was written.
			before, after := flatten(t, c.in), flatten(t, got)
			for k, v := range before {
				if after[k] != v && !maskedAt(after, k) {
					t.Errorf("%s: %q became %q", k, v, after[k])
				}
			}
		})
	}
}

// maskedAt reports whether the value at path, or a table or array holding it, reads as the mask.
func maskedAt(flat map[string]string, path string) bool {
	for p := path; p != ""; p = p[:max(strings.LastIndexAny(p, ".["), 0)] {
		if flat[p] == Mask {
			return true
		}
	}
	return false
}

// flatten decodes TOML into path → value; a masked array or table reads as the mask at its own path.
func flatten(t *testing.T, text string) map[string]string {
	t.Helper()
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		t.Fatalf("%v:\n%s", err, text)
	}
	out := map[string]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(p+"."+k, e)
			}
		case []map[string]any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", p, i), e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", p, i), e)
			}
		default:
			out[p] = fmt.Sprint(x)
		}
		if _, ok := out[p]; !ok {
			out[p] = "(container)"
		}
	}
	walk("", doc)
	return out
}

// TestMaskTOMLHidesWhatItCannotParse: text that is not valid TOML (a hand-edited file, Telegraf's unquoted
// ${VAR}) is not shown at all, since what hides a secret in it cannot be told.
func TestMaskTOMLHidesWhatItCannotParse(t *testing.T) {
	m := NewMasker()
	for _, in := range []string{
		"password = p-SECRET\n",
		"[outputs.influxdb\npassword = \"p-SECRET\"\n",
		"interval = ${INTERVAL}\npassword = \"p-SECRET\"\n",
		"password = \"p-SECRET\"\npassword = \"again-SECRET\"\n",
	} {
		got := m.MaskTOML(in)
		if strings.Contains(got, "SECRET") || !strings.HasPrefix(got, "(sensitive: content of ") || !strings.Contains(got, "not valid TOML") {
			t.Errorf("%q → %q", in, got)
		}
	}
}

// TestMaskTOMLNilMasker: a nil masker still masks by key.
func TestMaskTOMLNilMasker(t *testing.T) {
	var m *Masker
	if got := m.MaskTOML("password = \"p-SECRET\"\n"); got != "password = \"(sensitive)\"\n" {
		t.Errorf("nil masker: %q", got)
	}
}

func TestCredentialKey(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "db_password": true, "passwd": true, "pass": true, "pw": true,
		"token": true, "auth_token": true, "api_key": true, "apikey": true, "API-Key": true, "secret": true,
		"client_secret": true, "Authorization": true, "private_key": true, "credentials": true,
		"username": false, "user": false, "urls": false, "database": false, "passive": false, "interval": false,
		"hostname": false, "skip_database_creation": false, "insecure_skip_verify": false, "tagpass": false,
	} {
		if got := CredentialKey(name); got != want {
			t.Errorf("CredentialKey(%q) = %t, want %t", name, got, want)
		}
	}
}

// everyKind is TOML with every kind of key and value and nothing secret: masking leaves it as it is.
const everyKind = `1234 = "digits"
"quoted key" = 'C:\path'
a = -inf
b = +1_000
c = 0x1F
d = 1979-05-27T07:32:00.999-07:00
e = 07:32:00
f = true
g = [[1, 2], [3], []]
h = {}
i = "a\"b\\" # trailing comment
j = """a""b"""
k = """\
    continued \
    line"""
l = '''it's'''
m = """"quoted""""
[x."y.z"]
n = [
  1, # one
  2,
]
[[arr]]
o = 1
[[arr]]
o = { p = [ { q = 'r' } ] }
`

func BenchmarkCredentialKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range []string{"urls", "database", "username", "Pass_Word", "skip_database_creation", "timeout"} {
			CredentialKey(k)
		}
	}
}

func TestCredentialKeyBuildsNothingPerCall(t *testing.T) {
	// Asked for every key of every managed file of every host: a lookup table built per call (strings.Replacer)
	// was a fifth of a no-op plan's CPU.
	keys := []string{"urls", "database", "username", "Pass_Word", "skip_database_creation", "timeout"}
	got := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			CredentialKey(k)
		}
	})
	if got > float64(len(keys)) {
		t.Fatalf("%.0f allocations for %d keys, want at most one a key", got, len(keys))
	}
}
