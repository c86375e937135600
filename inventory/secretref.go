package inventory

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
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

// Err returns an error located at the key that configures this secret, for a problem found with its value, such
// as a server refusing it.
func (r SecretRef) Err(msg, fix string) *Error {
	return &Error{File: r.file, Line: r.line, Key: r.key, Msg: msg, Fix: fix}
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
// name the inventory key and what to do. So is a file that group or others may read or change, or that belongs to
// another user (as OpenSSH refuses such a private key), unless FLEETCTL_INSECURE_SECRET_FILES=1. One trailing
// newline (as left by echo or an editor) is removed.
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
		data, fi, err := readFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Sprintf("create %s or %s", p, change), "secret file %s does not exist", p)
		}
		if err != nil {
			return fail(fmt.Sprintf("make %s readable or %s", p, change), "cannot read secret file: %v", err)
		}
		if msg, fix := exposed(p, fi); msg != "" && !r.insecureFilesAllowed() {
			return fail(fix, "%s", msg)
		}
		v := trimNewline(string(data))
		if v == "" {
			return fail(fmt.Sprintf("write the secret into %s or %s", p, change), "secret file %s is empty", p)
		}
		return secret.New(v), nil
	}
	return fail(fmt.Sprintf(`set %s = { env = "NAME" } or { file = "path" } in %s`, r.key, r.file), "no secret configured")
}

// InsecureSecretFilesEnv, set to 1, turns the refusal of a secret file that others may read, or that another user
// owns, into a warning (see Inventory.SecretFileWarnings).
const InsecureSecretFilesEnv = "FLEETCTL_INSECURE_SECRET_FILES"

func (r SecretRef) insecureFilesAllowed() bool {
	getenv := r.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return getenv(InsecureSecretFilesEnv) == "1"
}

// readFile reads p and describes the file it read (not whatever p names by the time a second look is taken).
func readFile(p string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	return data, fi, err
}

// exposed says what is wrong with a secret file that someone else could read or replace, as OpenSSH says it of a
// private key: a regular file with any permission for group or others, or owned by a user other than the one
// running fleetctl (or root). Pipes and devices (a process substitution, /dev/stdin) are not judged.
func exposed(p string, fi fs.FileInfo) (msg, fix string) {
	if !fi.Mode().IsRegular() {
		return "", ""
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("secret file %s has mode %04o: group or others can read or change it", p, perm),
			fmt.Sprintf("chmod 600 %s", p)
	}
	if owner, self, ok := owners(fi); ok && owner != self && owner != 0 {
		return fmt.Sprintf("secret file %s belongs to %s, not to %s who runs fleetctl: its owner can read or change it", p, userName(owner), userName(self)),
			fmt.Sprintf("chown %s %s, or copy it to a file of your own with mode 600", userName(self), p)
	}
	return "", ""
}

// userName is the login name of uid, or the number when it has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// SecretFileWarnings describes, once per file, each configured secret file that is exposed (see Resolve) but
// accepted because FLEETCTL_INSECURE_SECRET_FILES=1; without that variable Resolve refuses them instead.
func (inv *Inventory) SecretFileWarnings() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range inv.secretRefs() {
		p := r.Path()
		if r.File == "" || seen[p] || !r.insecureFilesAllowed() {
			continue
		}
		seen[p] = true
		if fi, err := os.Stat(p); err == nil {
			if msg, fix := exposed(p, fi); msg != "" {
				out = append(out, fmt.Sprintf("%s: %s: %s (accepted because %s=1; fix: %s)", where(r.file, r.line), r.key, msg, InsecureSecretFilesEnv, fix))
			}
		}
	}
	return out
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
