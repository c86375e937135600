package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fleetctl/fleetctl/provision/secret"
)

// SecretRef says where a secret comes from: an environment variable or a file. The inventory never holds secrets
// itself (it is meant to be reviewed and committed), and references are only followed by Resolve, so validating
// and rendering work on a machine that has none of the secrets.
type SecretRef struct {
	Env  string // environment variable name, or ""
	File string // file path as written in the inventory (relative to the inventory's folder, ~ allowed), or ""

	key     string // inventory key, for messages
	file    string // inventory file, for messages
	line    int
	dir     string
	getenv  func(string) string
	homeDir string
}

// IsSet reports whether the inventory configured this secret.
func (r SecretRef) IsSet() bool { return r.Env != "" || r.File != "" }

// String describes the source without the secret, for render and validate output.
func (r SecretRef) String() string {
	switch {
	case r.Env != "":
		return "env " + r.Env
	case r.File != "":
		return "file " + r.File
	}
	return "unset"
}

// Path is the file a file reference reads, resolved against the inventory's folder; "" for env references.
func (r SecretRef) Path() string {
	if r.File == "" {
		return ""
	}
	p, _ := expandPath(r.File, r.dir, r.homeDir)
	return p
}

// Resolve reads the secret. A missing variable, a missing or unreadable file and an empty value are errors that
// name the inventory key and what to do. One trailing newline (as left by echo or an editor) is removed.
func (r SecretRef) Resolve() (secret.Value, error) {
	change := fmt.Sprintf("change %s in %s", r.key, where(r.file, r.line))
	fail := func(fix, format string, args ...any) (secret.Value, error) {
		return secret.Value{}, &Error{File: r.file, Line: r.line, Key: r.key, Msg: fmt.Sprintf(format, args...), Fix: fix}
	}
	switch {
	case r.Env != "":
		getenv := r.getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		v := trimNewline(getenv(r.Env))
		if v == "" {
			return fail(fmt.Sprintf("set %s or %s", r.Env, change), "environment variable %s is not set or empty", r.Env)
		}
		return secret.New(v), nil
	case r.File != "":
		p := r.Path()
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Sprintf("create %s or %s", p, change), "secret file %s does not exist", p)
		}
		if err != nil {
			return fail(fmt.Sprintf("make %s readable or %s", p, change), "cannot read secret file: %v", err)
		}
		v := trimNewline(string(data))
		if v == "" {
			return fail(fmt.Sprintf("write the secret into %s or %s", p, change), "secret file %s is empty", p)
		}
		return secret.New(v), nil
	}
	return fail(fmt.Sprintf(`set %s = { env = "NAME" } or { file = "path" } in %s`, r.key, r.file), "no secret configured")
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

var (
	errNoHome    = errors.New("cannot expand ~: HOME is not set")
	errTildeUser = errors.New("~user paths are not supported")
	errEmptyPath = errors.New("must not be empty")
)

func pathFix(err error) string {
	switch err {
	case errNoHome:
		return "set HOME, or write the full path"
	case errEmptyPath:
		return "write a path, relative to the inventory's folder or absolute"
	}
	return "write the full path"
}

// expandPath resolves ~ and relative paths: ~ against home, relative paths against the inventory's folder, so the
// inventory means the same thing whatever the working directory.
func expandPath(p, dir, home string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			return p, errNoHome
		}
		return filepath.Join(home, p[1:]), nil
	}
	if strings.HasPrefix(p, "~") {
		return p, errTildeUser
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Join(dir, p), nil
}

// suggestedEnv is the variable name each secret's "inline secret" fix proposes.
var suggestedEnv = map[string]string{
	"influxdb.admin_password": "INFLUX_ADMIN_PASSWORD",
	"grafana.token":           "GRAFANA_TOKEN",
	"grafana.password":        "GRAFANA_PASSWORD",
	"secrets.master":          "FLEETCTL_MASTER_SECRET",
	"ssh.sudo_password":       "SUDO_PASSWORD",
}

// secret reads a secret reference: { env = "NAME" } or { file = "path" }.
func (t *table) secret(k string, inv *Inventory) SecretRef {
	ref := SecretRef{key: t.key(k), file: t.d.file, line: t.pos(k).line, dir: inv.Dir, getenv: inv.getenv, homeDir: inv.home}
	v, ok := t.get(k)
	if !ok {
		return ref
	}
	env := suggestedEnv[ref.key]
	if env == "" {
		env = "NAME"
	}
	example := fmt.Sprintf(`%s = { env = %q } or { file = "path/to/file" }`, joinKey("", k), env)
	m, ok := v.(map[string]any)
	if !ok {
		if _, isString := v.(string); isString {
			// Never echo the value: it is probably the secret.
			t.errorf(k, "write "+example, "secrets cannot be written in the inventory: they come from an environment variable or a file")
		} else {
			t.wrongType(k, v, "a secret source", example)
		}
		return ref
	}
	st := t.d.table(ref.key, m)
	envName, hasEnv := st.str("env")
	file, hasFile := st.str("file")
	st.done()
	switch {
	case hasEnv && hasFile:
		t.errorf(k, "keep one of env and file", "a secret comes from exactly one source, not both env and file")
	case !hasEnv && !hasFile:
		if len(m) == 0 { // otherwise done reported the wrongly typed or misspelled key already
			t.errorf(k, "write "+example, "a secret source needs env or file")
		}
	case hasEnv && !envRE.MatchString(envName):
		st.errorf("env", fmt.Sprintf("use letters, digits and _, such as %q", env), "%q is not a valid environment variable name", envName)
	case hasFile && file == "":
		st.errorf("file", "write the path of the file holding the secret", "must not be empty")
	case hasFile:
		if _, err := expandPath(file, inv.Dir, inv.home); err != nil {
			st.errorf("file", pathFix(err), "%v", err)
		}
		ref.File = file
	default:
		ref.Env = envName
	}
	return ref
}
