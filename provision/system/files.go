package system

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// FileSpec is a file as it should be.
type FileSpec struct {
	Path    string
	Content []byte
	Mode    uint32
	Owner   string
	Group   string
	// Summary describes binary content in plans (a key's fingerprints); nil shows a digest. Text files show a diff.
	Summary func([]byte) string
	// SecretKeys mark a TOML file that may hold secrets. Plans show it masked by parsing (secret.Masker.MaskTOML):
	// the values of these keys and of every key named like a credential, whatever the value, so that a password on
	// the host that fleetctl does not know (an old one) is never shown either, and any string carrying a secret.
	SecretKeys []string
}

// Format never shows the content, which may hold a secret (the outputs file holds the agent's password).
func (f FileSpec) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "FileSpec{%s %04o %s:%s, %d bytes}", f.Path, f.Mode, f.Owner, f.Group, len(f.Content))
}

// Format never shows the files' content.
func (s *FileSet) Format(st fmt.State, _ rune) {
	fmt.Fprintf(st, "FileSet{%s, %d files}", s.Label, len(s.Files))
}

// describe is how content appears in a plan: masked text, or a one-line summary for binary content and for files
// with a Summary (a key file, armored or not, is shown by its fingerprints).
func (f FileSpec) describe(content []byte, m *secret.Masker) (text string, summarized bool) {
	if f.Summary != nil {
		return f.Summary(content), true
	}
	if utf8.Valid(content) && !bytes.ContainsRune(content, 0) {
		if len(f.SecretKeys) > 0 {
			return m.MaskTOML(string(content), f.SecretKeys...), false
		}
		return m.Mask(string(content)), false
	}
	return "binary, " + sizeAndSum(content), true
}

func sizeAndSum(content []byte) string {
	sum := sha256.Sum256(content)
	return fmt.Sprintf("%d bytes, sha256 %s", len(content), hex.EncodeToString(sum[:8]))
}

// FileSet manages files that take effect together: they are installed in one step, an optional check runs against
// the result, and when the check fails every file is put back as it was. A watched directory's other entries are
// reported; entries carrying the owned prefix that are no longer wanted are deleted (fleetctl wrote them).
type FileSet struct {
	Label       string     // what the set is, for messages ("telegraf config")
	Files       []FileSpec // in install order
	Watch       string     // directory to report unmanaged entries of; "" for none
	OwnedPrefix string     // entries of Watch with this prefix belong to fleetctl
	Check       string     // shell command run as root after install; non-zero exit restores the previous files
	Masker      *secret.Masker

	bound
	absent bool
}

// Absent plans every file of the set deleted (and, in Watch, every entry with the owned prefix), with no check:
// the set is going, not changing.
func (s *FileSet) Absent() { s.absent, s.Check = true, "" }

// NewFileSet binds a file set to a host's connection and facts.
func NewFileSet(r Runner, f *Facts, fs FileSet) *FileSet {
	fs.bound = bound{r, f}
	return &fs
}

func (s *FileSet) Kind() string { return "files" }
func (s *FileSet) Name() string { return s.Label }

// Read checks the host facts hold every file; they were read in the host's one batched command.
func (s *FileSet) Read(ctx context.Context) error {
	for _, f := range s.Files {
		if _, ok := s.facts.Files[f.Path]; !ok {
			return fmt.Errorf("file %s was not read from the host", f.Path)
		}
	}
	return nil
}

// Diff compares each file and the watched directory.
func (s *FileSet) Diff(prior []plan.Change) []plan.Change {
	var out []plan.Change
	managed := map[string]bool{}
	for _, want := range s.Files {
		managed[want.Path] = true
		if s.absent {
			out = append(out, s.deleteFile(want, s.facts.Files[want.Path]))
			continue
		}
		out = append(out, s.diffFile(want, s.facts.Files[want.Path]))
	}
	if s.Watch == "" {
		return out
	}
	for _, name := range s.facts.Dirs[s.Watch] {
		p := path.Join(s.Watch, name)
		if managed[p] || strings.Contains(name, ".fleetctl-") {
			continue
		}
		if s.OwnedPrefix != "" && strings.HasPrefix(name, s.OwnedPrefix) {
			out = append(out, plan.Change{Kind: KindFile, Name: p, Action: plan.Delete,
				Reason: "written by fleetctl and no longer wanted"})
			continue
		}
		reason := "not managed by fleetctl: left untouched"
		if strings.HasSuffix(name, ".conf") {
			reason += "; telegraf loads it"
		}
		out = append(out, plan.Change{Kind: KindFile, Name: p, Action: plan.Report, Reason: reason})
	}
	return out
}

// deleteFile plans a file of an absent set: deleted when it exists.
func (s *FileSet) deleteFile(want FileSpec, got FileFact) plan.Change {
	ch := plan.Change{Kind: KindFile, Name: want.Path, Action: plan.NoOp, ReadDigest: want.digest(got, s.Masker)}
	if got.Exists {
		ch.Action = plan.Delete
		ch.Fields = []plan.Field{{Name: "mode", Before: fmt.Sprintf("%04o", got.Mode)}, {Name: "owner", Before: got.Owner}, {Name: "group", Before: got.Group}}
	}
	return ch
}

func (s *FileSet) diffFile(want FileSpec, got FileFact) plan.Change {
	ch := plan.Change{Kind: KindFile, Name: want.Path, ReadDigest: want.digest(got, s.Masker)}
	afterText, afterBinary := want.describe(want.Content, s.Masker)
	mode := func(m uint32) string { return fmt.Sprintf("%04o", m) }
	if !got.Exists {
		ch.Action = plan.Create
		ch.Fields = []plan.Field{{Name: "mode", After: mode(want.Mode)}, {Name: "owner", After: want.Owner}, {Name: "group", After: want.Group}}
		if afterBinary {
			ch.Fields = append(ch.Fields, plan.Field{Name: "content", After: afterText})
		} else {
			ch.AfterText = &afterText
		}
		return ch
	}
	for _, f := range []plan.Field{
		{Name: "mode", Before: mode(got.Mode), After: mode(want.Mode)},
		{Name: "owner", Before: got.Owner, After: want.Owner},
		{Name: "group", Before: got.Group, After: want.Group},
	} {
		if f.Changed() {
			ch.Fields = append(ch.Fields, f)
		}
	}
	if !bytes.Equal(got.Content, want.Content) {
		beforeText, beforeBinary := want.describe(got.Content, s.Masker)
		if beforeBinary || afterBinary {
			if beforeText == afterText {
				// The summaries cannot tell them apart (the same key, encoded otherwise): show how the bytes differ.
				beforeText, afterText = beforeText+" ("+sizeAndSum(got.Content)+")", afterText+" ("+sizeAndSum(want.Content)+")"
			}
			ch.Fields = append(ch.Fields, plan.Field{Name: "content", Before: beforeText, After: afterText})
		} else if beforeText == afterText {
			// Only a secret differs: say so without showing either value.
			ch.Fields = append(ch.Fields, plan.Field{Name: "content", Sensitive: true})
		} else {
			ch.BeforeText, ch.AfterText = &beforeText, &afterText
		}
	}
	if len(ch.Fields) == 0 && ch.BeforeText == nil {
		ch.Action = plan.NoOp
	} else {
		ch.Action = plan.Update
	}
	return ch
}

// digest fingerprints what was read of a file for saved plans, from nothing secret: its metadata, its content as
// a plan shows it (secrets masked), and whether the content is exactly what is wanted (so a secret that drifts
// still changes the digest).
func (f FileSpec) digest(got FileFact, m *secret.Masker) string {
	if !got.Exists {
		return "absent"
	}
	shown, _ := f.describe(got.Content, m)
	h := sha256.New()
	fmt.Fprintf(h, "%o %s %s %t\n%s", got.Mode, got.Owner, got.Group, bytes.Equal(got.Content, f.Content), shown)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ErrCheckFailed means the check rejected the new files; they were restored and nothing took effect.
var ErrCheckFailed = errors.New("configuration check failed")

// Apply installs the changed files atomically (staged in a private directory, installed beside the target, renamed
// over it), runs the check, and restores every file if the check fails.
func (s *FileSet) Apply(ctx context.Context, changes []plan.Change) error {
	return runOne(ctx, s, changes)
}

// Fragment is the set's apply as one root script: all-or-nothing, so any failure before the check's verdict (and
// the check's refusal) puts back what was replaced.
func (s *FileSet) Fragment(changes []plan.Change) (Fragment, error) {
	specs := map[string]FileSpec{}
	for _, f := range s.Files {
		specs[f.Path] = f
	}
	var frag Fragment
	var body, restoreBody strings.Builder
	contentChanged := false
	madeDirs := map[string]bool{}
	for i, ch := range changes {
		p := remote.Quote(ch.Name)
		bak := fmt.Sprintf("\"$S\"/bak-%d", i)
		tmp := remote.Quote(ch.Name + ".fleetctl-new")
		switch ch.Action {
		case plan.Create, plan.Update:
			spec, ok := specs[ch.Name]
			if !ok {
				return Fragment{}, fmt.Errorf("apply %s: %s is not one of its files", s.Label, ch.Name)
			}
			mode := remote.Quote(fmt.Sprintf("%04o", spec.Mode))
			own := fmt.Sprintf("-m %s -o %s -g %s", mode, remote.Quote(spec.Owner), remote.Quote(spec.Group))
			if ch.Action == plan.Update && ch.BeforeText == nil && !hasField(ch, "content") && ch.AfterText == nil {
				// Only ownership or mode drifted: fix in place, no new content.
				fmt.Fprintf(&body, "cp -p %s %s\nchown %s:%s %s\nchmod %s %s\n", p, bak, remote.Quote(spec.Owner), remote.Quote(spec.Group), p, mode, p)
				fmt.Fprintf(&restoreBody, "[ -e %s ] && cp -p %s %s && mv -f %s %s\n", bak, bak, tmp, tmp, p)
				continue
			}
			contentChanged = true
			name := fmt.Sprintf("new-%d", i)
			frag.Files = append(frag.Files, remote.File{Name: name, Data: spec.Content})
			if dir := remote.Quote(path.Dir(ch.Name)); !madeDirs[dir] {
				madeDirs[dir] = true
				fmt.Fprintf(&body, "[ -d %s ] || install -d -m 0755 %s\n", dir, dir)
			}
			fmt.Fprintf(&body, "if [ -e %s ]; then cp -p %s %s; fi\n", p, p, bak)
			fmt.Fprintf(&body, "install %s \"$S\"/%s %s\nmv -f %s %s\n", own, remote.Quote(name), tmp, tmp, p)
			fmt.Fprintf(&restoreBody, "if [ -e %s ]; then cp -p %s %s && mv -f %s %s; else rm -f %s; fi\n", bak, bak, tmp, tmp, p, p)
		case plan.Delete:
			contentChanged = true
			fmt.Fprintf(&body, "if [ -e %s ]; then cp -p %s %s && rm -f %s; fi\n", p, p, bak, p)
			fmt.Fprintf(&restoreBody, "if [ -e %s ]; then cp -p %s %s && mv -f %s %s; fi\n", bak, bak, tmp, tmp, p)
		}
	}
	var script strings.Builder
	script.WriteString("restore() {\n:\n")
	script.WriteString(restoreBody.String())
	script.WriteString("}\n")
	for _, line := range strings.Split(strings.TrimRight(body.String(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(&script, "%s || { restore; exit 70; }\n", line)
		}
	}
	if s.Check != "" && contentChanged {
		fmt.Fprintf(&script, "if ! out=$( (%s) 2>&1 ); then restore; printf '%%s\\n' \"$out\"; exit 65; fi\n", s.Check)
	}
	frag.Script = script.String()
	frag.Explain = func(status int, output string) error {
		msg := s.Masker.Mask(strings.TrimSpace(output))
		if status == 65 {
			return fmt.Errorf("%w for %s: the previous files were restored and nothing was restarted: %s", ErrCheckFailed, s.Label, msg)
		}
		return fmt.Errorf("install %s: exit status %d: %s", s.Label, status, msg)
	}
	return frag, nil
}

// KindFile is the kind of a file set's changes: one change a file, named by its path.
const KindFile = "file"

// FileAddress is the address of a file's changes (path may be a glob, for plan.GlobRegexp).
func FileAddress(host, path string) string { return plan.Address(host, KindFile, path) }

// ChangesContent says whether a file change gives a reader of the file something new to read: the file is created
// or deleted, or its content changes. A change of mode, owner or group alone does not (a running agent read the
// content already; restarting it would change nothing).
func ChangesContent(c plan.Change) bool {
	switch c.Action {
	case plan.Create, plan.Delete:
		return true
	case plan.Update:
		return c.BeforeText != nil || c.AfterText != nil || hasField(c, "content")
	}
	return false
}

func hasField(ch plan.Change, name string) bool {
	return slices.ContainsFunc(ch.Fields, func(f plan.Field) bool { return f.Name == name })
}
