package system_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/repokey"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/test/testbed"
)

// bedHost is a real-systemd host of the bed that no other test package uses; these tests keep to a directory of
// their own on it.
const bedHost = "sd11-debian12"

func dialBed(t *testing.T) (context.Context, *remote.Conn, *testbed.Bed, testbed.Host) {
	t.Helper()
	return dialBedHost(t, bedHost)
}

// dialBedHost connects to the bed's host name as the bed's SSH user, for the length of the test.
func dialBedHost(t *testing.T, name string) (context.Context, *remote.Conn, *testbed.Bed, testbed.Host) {
	t.Helper()
	bed := testbed.Require(t)
	h := bed.Host(t, name)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	auth, closeAuth, err := remote.AuthFromKeys([]string{bed.SSH.ClientKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAuth)
	conn, err := remote.Dial(ctx, h.Name, h.Addr(), remote.Config{User: bed.SSH.User, Auth: auth,
		HostKeys: &remote.HostKeys{Path: bed.SSH.KnownHosts}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ctx, conn, bed, h
}

// scratch is a new path of the host's that the test removes when it ends.
func scratch(t *testing.T, bed *testbed.Bed, h testbed.Host, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := prefix + hex.EncodeToString(b)
	t.Cleanup(func() { bed.Run(t, h, "sudo rm -rf "+p) })
	return p
}

func pending(chs []plan.Change) []plan.Change {
	var out []plan.Change
	for _, c := range chs {
		if c.Action.Changes() {
			out = append(out, c)
		}
	}
	return out
}

// TestFileSetOnARealHost installs files over SSH (staged by sftp, installed atomically, in one command), proves a
// second plan is empty, then has the check refuse new content: the error says so and the previous files are back,
// with nothing left behind on the host.
func TestFileSetOnARealHost(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	dir := scratch(t, bed, h, "/etc/fleetctl-it-")
	a, sub := dir+"/a.conf", dir+"/sub/b.conf"
	masker := secret.NewMasker()
	masker.Add(secret.New("pa55word-it"))

	fileSet := func(content, check string) (*system.FileSet, error) {
		facts, err := system.Read(ctx, conn, system.Query{Files: []string{a, sub}, Dirs: []string{dir}})
		if err != nil {
			return nil, err
		}
		return system.NewFileSet(conn, facts, system.FileSet{Label: "it files", Watch: dir, Check: check, Masker: masker, Files: []system.FileSpec{
			{Path: a, Content: []byte(content), Mode: 0o640, Owner: "root", Group: "root", SecretKeys: []string{"password"}},
			{Path: sub, Content: []byte("static = 1\n"), Mode: 0o644, Owner: "root", Group: "root"},
		}}), nil
	}
	apply := func(fs *system.FileSet) error {
		if err := fs.Read(ctx); err != nil {
			return err
		}
		if p := pending(fs.Diff(nil)); len(p) > 0 {
			return fs.Apply(ctx, p)
		}
		return nil
	}
	stagedBefore := bed.Run(t, h, "ls -d /tmp/fleetctl.* 2>/dev/null | wc -l")

	good := "mode = \"good\"\npassword = \"pa55word-it\"\n"
	fs, err := fileSet(good, "grep -q good "+a)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(fs); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if got := bed.Run(t, h, "sudo stat -c '%a %U %G' "+a+" "+sub+"; sudo cat "+a); got != "640 root root\n644 root root\n"+good {
		t.Fatalf("installed files:\n%s", got)
	}
	fs, err = fileSet(good, "grep -q good "+a)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pending(fs.Diff(nil)); len(p) != 0 {
		t.Fatalf("second plan is not empty: %+v", p)
	}

	// The check refuses the new content: nothing takes effect, and the message never shows the secret.
	fs, err = fileSet("mode = \"bad\"\npassword = \"pa55word-it\"\n", "grep -q good "+a+" || { echo 'E! no good mode in pa55word-it'; exit 1; }")
	if err != nil {
		t.Fatal(err)
	}
	err = apply(fs)
	if !errors.Is(err, system.ErrCheckFailed) || !strings.Contains(err.Error(), "E! no good mode") || strings.Contains(err.Error(), "pa55word-it") {
		t.Fatalf("refused check: %v", err)
	}
	if got := bed.Run(t, h, "sudo cat "+a); got != good {
		t.Fatalf("after a refused check the file is\n%s\nwant the previous one", got)
	}
	if got := bed.Run(t, h, "sudo find "+dir+" -name '*.fleetctl-*' | wc -l; ls -d /tmp/fleetctl.* 2>/dev/null | wc -l"); got != "0\n"+stagedBefore {
		t.Fatalf("left behind (temporary files in %s, staging directories before %s):\n%s", dir, strings.TrimSpace(stagedBefore), got)
	}
}

// TestGateOverSudo: the gate line reaches the host through sudo, and a closed gate keeps what follows from running.
func TestGateOverSudo(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	dir := scratch(t, bed, h, "/tmp/fleetctl-gate-")
	for _, open := range []bool{false, true} {
		gate := make(chan error, 1)
		if open {
			gate <- nil
		} else {
			gate <- errors.New("the server side failed")
		}
		frags := []system.Fragment{
			{Script: "mkdir -p " + dir + " && touch " + dir + "/before"},
			{Script: "touch " + dir + "/gated", Gated: true},
		}
		n, err := system.RunFragments(ctx, conn, frags, gate, nil)
		got := bed.Run(t, h, "ls "+dir)
		switch {
		case !open && (!errors.Is(err, system.ErrGateClosed) || n != 1 || got != "before\n"):
			t.Fatalf("closed gate: ran %d, %v; %s holds %q", n, err, dir, got)
		case open && (err != nil || n != 2 || got != "before\ngated\n"):
			t.Fatalf("open gate: ran %d, %v; %s holds %q", n, err, dir, got)
		}
	}
}

// dialAs connects to a bed host as the bed's user, with cfg's other settings (a sudo password).
func dialAs(t *testing.T, ctx context.Context, bed *testbed.Bed, h testbed.Host, cfg remote.Config) *remote.Conn {
	t.Helper()
	auth, closeAuth, err := remote.AuthFromKeys([]string{bed.SSH.ClientKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAuth)
	if cfg.User == "" {
		cfg.User = bed.SSH.User
	}
	cfg.Auth, cfg.HostKeys = auth, &remote.HostKeys{Path: bed.SSH.KnownHosts}
	conn, err := remote.Dial(ctx, h.Name, h.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// holdOnHost takes an fcntl write lock on path, as root on the host (a real holder, as an aborted dpkg or rpm
// transaction is), and returns its PID there once it holds it. release lets go.
func holdOnHost(t *testing.T, ctx context.Context, conn *remote.Conn, path string) (pid string, release func()) {
	t.Helper()
	pr, pw := io.Pipe()
	held, done := make(chan string, 1), make(chan error, 1)
	go func() {
		// struct flock (x86-64, arm64): short type, short whence, pad, off_t start, off_t len, pid_t pid, pad.
		_, err := conn.SudoWatch(ctx, `exec perl -e 'use Fcntl; open(my $f, ">>", $ARGV[0]) or die "open: $!"; `+
			`fcntl($f, F_SETLK, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "lock: $!"; $| = 1; print "held $$\n"; <STDIN>;' `+
			remote.Quote(path), pr, func(line string) {
			if p, ok := strings.CutPrefix(line, "held "); ok {
				held <- p
			}
		})
		done <- err
	}()
	select {
	case pid = <-held:
	case err := <-done:
		t.Fatalf("hold %s: %v", path, err)
	}
	once := false
	release = func() {
		if !once {
			once = true
			pw.Close()
			<-done
		}
	}
	t.Cleanup(release)
	return pid, release
}

// TestInstallWaitsForAnotherPackageManager holds, on real hosts, the lock an aborted package manager leaves held
// (dpkg's frontend lock on Debian; rpm's database lock on openSUSE, which rpm --import does not wait for and which
// failed the next apply after a Ctrl-C): the install waits, saying for what and whom, and proceeds once the lock
// is free; held past a short wait, it fails naming the lock and its holder, having installed nothing.
func TestInstallWaitsForAnotherPackageManager(t *testing.T) {
	for _, c := range []struct{ host, family, lock string }{
		{bedHost, "apt", "/var/lib/dpkg/lock-frontend"},
		{"c20-suse15", "zypper", "/var/lib/rpm/.rpm.lock"},
	} {
		t.Run(c.family, func(t *testing.T) {
			bed := testbed.Require(t)
			h := bed.Host(t, c.host)
			ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
			defer cancel()
			conn := dialAs(t, ctx, bed, h, remote.Config{})
			f := system.Families()[c.family]
			// The key as fleetctl installs it: verified against the pin and re-encoded, so the host ends with the
			// same key file an apply writes.
			data, err := os.ReadFile(bed.Repo.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			k, err := repokey.Verify(data, bed.Repo.KeyFingerprint)
			if err != nil {
				t.Fatal(err)
			}
			facts, err := system.Read(ctx, conn, system.Query{Files: system.RepoFilePaths(), Packages: []string{"telegraf"}})
			if err != nil {
				t.Fatal(err)
			}
			repo := system.NewFileSet(conn, facts, system.FileSet{Label: "repository", Masker: secret.NewMasker(),
				Files: f.RepoFiles(system.Repo{AptURL: bed.Repo.AptURL, RPMURL: bed.Repo.RPMURL, Key: k.Binary, KeyArmored: k.Armored})})
			if err := repo.Apply(ctx, pending(repo.Diff(nil))); err != nil {
				t.Fatal(err)
			}
			installed := func() string { return bed.Run(t, h, f.InstalledVersion("telegraf")+" || true") }
			if v := installed(); strings.Contains(v, ".") {
				bed.Run(t, h, "sudo sh -c "+remote.Quote(f.Remove("telegraf")))
			}
			t.Cleanup(func() { bed.Run(t, h, "sudo sh -c "+remote.Quote(f.Remove("telegraf")+" || true")) })
			install := func(wait time.Duration, note func(string)) error {
				frag, err := system.NewPackage(conn, facts, system.Package{Pkg: "telegraf", Family: f, LockWait: wait}).Fragment(nil)
				if err != nil {
					return err
				}
				frag.Note = note
				_, err = system.RunFragments(ctx, conn, []system.Fragment{frag}, nil, nil)
				return err
			}

			pid, release := holdOnHost(t, ctx, conn, c.lock)
			holder := c.lock + "), held by pid " + pid + " (perl -e "
			err = install(2*time.Second, func(string) {})
			if !errors.Is(err, system.ErrLockBusy) || !strings.Contains(err.Error(), "gave up after 2s waiting for ") || !strings.Contains(err.Error(), holder) {
				t.Fatalf("held past the wait: %v", err)
			}
			if v := installed(); strings.Contains(v, ".") {
				t.Fatalf("installed while the lock was held: %q", v)
			}

			notes := make(chan string, 10)
			result := make(chan error, 1)
			go func() { result <- install(2*time.Minute, func(n string) { notes <- n }) }()
			select {
			case n := <-notes:
				if !strings.HasPrefix(n, "waiting for ") || !strings.Contains(n, holder) {
					t.Fatalf("note: %q", n)
				}
			case err := <-result:
				t.Fatalf("the install did not wait for the held lock: %v", err)
			}
			release()
			if err := <-result; err != nil {
				t.Fatalf("once the lock was free: %v", err)
			}
			if v := installed(); !strings.Contains(v, bed.Repo.TelegrafVersion) {
				t.Fatalf("not installed after the wait: %q", v)
			}
		})
	}
}

// attackRunner is a connection on which a process of the login user (who owns the upload directory) acts between
// the upload and root's command.
type attackRunner struct {
	*remote.Conn
	attack func(dir string)
}

func (a attackRunner) Stage(ctx context.Context, files []remote.File) (string, error) {
	dir, err := a.Conn.Stage(ctx, files)
	if err == nil {
		a.attack(dir)
	}
	return dir, err
}

// TestRootTakesOnlyWhatWasUploaded performs, as the login user on a real host, the attacks on root's use of the
// staging directory: the staged file swapped for a link to /etc/shadow (root would install its content, readable by
// all), and links planted where root writes its backups (root would overwrite the file they name). Root refuses
// the first and is not fooled by the second; and the staging directory and its files were private (0700, 0600)
// from the upload on.
func TestRootTakesOnlyWhatWasUploaded(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	dir := scratch(t, bed, h, "/etc/fleetctl-it-")
	target, victim := dir+"/a.conf", dir+"/victim"
	bed.Run(t, h, "sudo mkdir -p "+dir+" && echo precious | sudo tee "+victim+" >/dev/null && echo old | sudo tee "+target+" >/dev/null")
	apply := func(r system.Runner) error {
		facts, err := system.Read(ctx, conn, system.Query{Files: []string{target}})
		if err != nil {
			return err
		}
		fs := system.NewFileSet(r, facts, system.FileSet{Label: "it files", Masker: secret.NewMasker(), Files: []system.FileSpec{
			{Path: target, Content: []byte("new\n"), Mode: 0o644, Owner: "root", Group: "root"}}})
		return fs.Apply(ctx, pending(fs.Diff(nil)))
	}

	var modes string
	err := apply(attackRunner{conn, func(d string) {
		modes = bed.Run(t, h, "stat -c '%a %U' "+d+" "+d+"/*")
		bed.Run(t, h, "for f in "+d+"/*; do rm -f $f && ln -s /etc/shadow $f; done")
	}})
	if err == nil || !strings.Contains(err.Error(), "refusing the staged file") {
		t.Fatalf("a staged file made a link to /etc/shadow: %v", err)
	}
	if got := bed.Run(t, h, "sudo cat "+target); got != "old\n" {
		t.Fatalf("after the refused link, %s holds %q", target, firstLine(got))
	}
	if modes != "700 deploy\n600 deploy\n" {
		t.Errorf("staging directory and file modes: %q", modes)
	}

	err = apply(attackRunner{conn, func(d string) {
		bed.Run(t, h, "for i in 0 1 2 3; do ln -s "+victim+" "+d+"/bak-$i; mkdir -p "+d+"/$i && ln -s "+victim+" "+d+"/$i/bak-0; done")
	}})
	if err != nil {
		t.Fatalf("with links planted beside the staged file: %v", err)
	}
	if got := bed.Run(t, h, "sudo cat "+victim+" "+target); got != "precious\nnew\n" {
		t.Fatalf("victim and target: %q", got)
	}
	if got := bed.Run(t, h, "ls -d /tmp/fleetctl.* 2>/dev/null || true"); got != "" {
		t.Fatalf("left in /tmp: %s", got)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestSudoPasswordWhenSudoDoesNotAsk: with a sudo password configured, the gate reaches the gated step whether
// sudo asks for the password (a user whose sudo needs it) or not (the bed's deploy user has password-less sudo,
// like cached credentials): the password line is never read as the gate.
func TestSudoPasswordWhenSudoDoesNotAsk(t *testing.T) {
	ctx, _, bed, h := dialBed(t)
	const user, pw = "fleetit", "Sudo-Pass-it-7"
	bed.Run(t, h, `set -e
		id `+user+` >/dev/null 2>&1 || sudo useradd -m -s /bin/sh `+user+`
		echo '`+user+`:`+pw+`' | sudo chpasswd
		sudo install -d -m 700 -o `+user+` -g `+user+` /home/`+user+`/.ssh
		sudo install -m 600 -o `+user+` -g `+user+` /home/deploy/.ssh/authorized_keys /home/`+user+`/.ssh/authorized_keys
		echo '`+user+` ALL=(ALL) ALL' | sudo tee /etc/sudoers.d/`+user+` >/dev/null`)
	t.Cleanup(func() {
		bed.Run(t, h, "sudo rm -f /etc/sudoers.d/"+user+"; sudo userdel -r "+user+" 2>/dev/null || true")
	})
	for _, login := range []string{bed.SSH.User, user} {
		conn := dialAs(t, ctx, bed, h, remote.Config{User: login, SudoPassword: secret.New(pw)})
		dir := scratch(t, bed, h, "/tmp/fleetctl-it-pw-")
		gate := make(chan error, 1)
		gate <- nil
		frags := []system.Fragment{
			{Script: "mkdir -p " + dir + " && touch " + dir + "/before", Files: []remote.File{{Name: "f", Data: []byte("x")}}},
			{Script: "touch " + dir + "/gated", Gated: true},
		}
		n, err := system.RunFragments(ctx, conn, frags, gate, nil)
		if got := bed.Run(t, h, "ls "+dir); err != nil || n != 2 || got != "before\ngated\n" {
			t.Fatalf("as %s: ran %d, %v; %s holds %q", login, n, err, dir, got)
		}
	}
}

// blockedRun starts a command whose second step blocks on a FIFO of the host, and returns once its first step is
// done, with the working directory the command holds. release lets the step finish; cancel ends the run's
// connection side (as a killed fleetctl does).
func blockedRun(t *testing.T, ctx context.Context, conn *remote.Conn, bed *testbed.Bed, h testbed.Host) (work string, release, cancel func(), result <-chan error) {
	t.Helper()
	fifo := scratch(t, bed, h, "/tmp/fleetctl-it-fifo-")
	bed.Run(t, h, "sudo mkfifo "+fifo)
	before := bed.Run(t, h, "ls -d /tmp/fleetctl.* 2>/dev/null || true")
	rctx, cancel := context.WithCancel(ctx)
	first := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		_, err := system.RunFragments(rctx, conn, []system.Fragment{
			{Script: "true", Files: []remote.File{{Name: "outputs", Data: []byte("password = \"it\"\n")}}},
			{Script: "read x <" + fifo},
		}, nil, func(i int, _ time.Duration) {
			if i == 0 {
				close(first)
			}
		})
		res <- err
	}()
	select {
	case <-first:
	case err := <-res:
		t.Fatalf("the blocked run ended: %v", err)
	}
	after := bed.Run(t, h, "ls -d /tmp/fleetctl.*")
	for _, d := range strings.Fields(after) {
		if !strings.Contains(before, d) {
			work = d
		}
	}
	if work == "" || bed.Run(t, h, "sudo cat "+work+"/.owner") == "" {
		t.Fatalf("no working directory with its holder (before %q, after %q)", before, after)
	}
	released := false
	release = func() {
		if !released {
			released = true
			bed.Run(t, h, "sudo sh -c "+remote.Quote("echo go >"+fifo))
		}
	}
	return work, release, cancel, res
}

// TestNothingStaysBehindOnTheHost: a run whose connection dies mid-apply (a killed fleetctl) still removes its
// working directory, once the step in flight ends; a run whose root shell is killed too leaves it, and the next run
// sweeps it, with what other killed runs left: but never the directory of a run still in flight, nor one too
// recent to judge, nor another user's.
func TestNothingStaysBehindOnTheHost(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	if got := bed.Run(t, h, "ls -d /tmp/fleetctl.* 2>/dev/null || true"); got != "" {
		t.Fatalf("left in /tmp by an earlier test: %s", got)
	}
	t.Cleanup(func() { bed.Run(t, h, "sudo rm -rf /tmp/fleetctl.*") })

	// The connection dies mid-apply: the step in flight finishes, then the command cleans up after itself.
	work, release, cancel, result := blockedRun(t, ctx, dialAs(t, ctx, bed, h, remote.Config{}), bed, h)
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	release()
	deadline := time.Now().Add(30 * time.Second)
	for bed.Run(t, h, "sudo ls -d "+work+" 2>/dev/null || true") != "" {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there after its connection died and its step ended", work)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// What killed runs leave, and what the sweep must keep; everything but young* is an hour old.
	inflight, releaseInflight, cancelInflight, inflightResult := blockedRun(t, ctx, dialAs(t, ctx, bed, h, remote.Config{}), bed, h)
	defer func() { cancelInflight(); releaseInflight(); <-inflightResult }()
	// A dead holder: a shell that recorded itself as a command does, then ended.
	holder := `sh -c 'read -r st </proc/$$/stat; set -- ${st##*)}; echo "$$ ${20}"'`
	bed.Run(t, h, "sudo sh -e -c "+remote.Quote(`cd /tmp
		mkdir -m 700 fleetctl.it-dead fleetctl.it-reused fleetctl.it-young-dead fleetctl.it-other it-target
		`+holder+` >fleetctl.it-dead/.owner
		cp fleetctl.it-dead/.owner fleetctl.it-young-dead/.owner
		echo "1 1" >fleetctl.it-reused/.owner
		echo secret >fleetctl.it-dead/outputs
		echo keep >it-target/file
		chown nobody fleetctl.it-other
		ln -s it-target fleetctl.it-link
		touch -d "-1 hour" fleetctl.it-dead fleetctl.it-reused fleetctl.it-other `+inflight+`
		touch -h -d "-1 hour" fleetctl.it-link`))
	bed.Run(t, h, `install -d -m 700 /tmp/fleetctl.it-upload /tmp/fleetctl.it-young-upload
		echo secret >/tmp/fleetctl.it-upload/0; touch -d "-1 hour" /tmp/fleetctl.it-upload`)
	t.Cleanup(func() { bed.Run(t, h, "sudo rm -rf /tmp/it-target") })
	if _, err := system.RunFragments(ctx, conn, []system.Fragment{{Script: "true"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"/tmp/fleetctl.it-link", "/tmp/fleetctl.it-other", "/tmp/fleetctl.it-young-dead",
		"/tmp/fleetctl.it-young-upload", inflight}, "\n")
	got := strings.TrimSpace(bed.Run(t, h, "ls -d /tmp/fleetctl.* | sort"))
	if sorted := strings.Join(slices.Sorted(slices.Values(strings.Fields(want))), "\n"); got != sorted {
		t.Fatalf("after the sweep:\n%s\nwant:\n%s", got, sorted)
	}
	if got := bed.Run(t, h, "sudo cat /tmp/it-target/file"); got != "keep\n" {
		t.Fatalf("the sweep followed a link: %q", got)
	}

	// The run in flight is killed outright (root shell and all): its directory is stale now, and swept.
	bed.Run(t, h, "sudo sh -c "+remote.Quote("read -r pid start <"+inflight+"/.owner && kill -9 $pid"))
	releaseInflight()
	bed.Run(t, h, "sudo touch -d '-1 hour' "+inflight)
	if _, err := system.RunFragments(ctx, conn, []system.Fragment{{Script: "true"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := bed.Run(t, h, "sudo ls -d "+inflight+" 2>/dev/null || true"); got != "" {
		t.Fatalf("the killed run's directory was not swept: %s", got)
	}
}
