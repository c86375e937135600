package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Config is how to reach and authenticate to hosts. One Config serves the whole fleet.
type Config struct {
	User           string
	Auth           []ssh.AuthMethod
	HostKeys       *HostKeys
	SudoPassword   secret.Value // empty: sudo must be password-less
	ConnectTimeout time.Duration
	CommandTimeout time.Duration
	Jumps          *Jumps // the run's connections to jump hosts; needed only by endpoints with Via
}

// AuthFromKeys builds authentication from private key files and, when agentSock is set, the ssh-agent behind it.
// Keys are tried in that order, each after the certificate beside it (KEY-cert.pub) if there is one; a key file
// that cannot be read or parsed is an error naming the file.
func AuthFromKeys(files []string, agentSock string) ([]ssh.AuthMethod, func(), error) {
	k, closeFn, err := NewKeyring(agentSock)
	if err != nil {
		return nil, nil, err
	}
	var ids []KeyFile
	for _, f := range files {
		ids = append(ids, KeyFile{Path: f, From: "ssh.identity_files"})
	}
	auth, err := k.Auth(ids, nil, false)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return auth, closeFn, nil
}

// Stats counts what a connection cost.
type Stats struct {
	Sessions atomic.Int64 // SSH session channels opened: commands and the sftp subsystem (each a round trip or more)
	Uploads  atomic.Int64
}

// Conn is the SSH connection to one host; it carries every step of a run for that host.
type Conn struct {
	Host  string // inventory name, for messages
	Addr  string
	cfg   Config
	ssh   *ssh.Client
	Stats Stats

	sftpOnce sync.Once
	sftp     *sftp.Client
	sftpSess *ssh.Session
	sftpErr  error
}

// Dial opens the connection to host at addr (host:port), verifying its host key.
func Dial(ctx context.Context, host, addr string, cfg Config) (*Conn, error) {
	return DialEndpoint(ctx, Endpoint{Name: host, Addr: addr}, cfg)
}

// DialEndpoint opens the connection to ep, through its jump hosts if it has any, verifying every host key.
func DialEndpoint(ctx context.Context, ep Endpoint, cfg Config) (*Conn, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 5 * time.Minute
	}
	client, err := dialVia(ctx, ep, cfg)
	if err != nil {
		return nil, err
	}
	if ep.User != "" {
		cfg.User = ep.User
	}
	return &Conn{Host: ep.Name, Addr: ep.Addr, cfg: cfg, ssh: client}, nil
}

// String names the connection; the config (which may hold the sudo password) is never printed.
func (c *Conn) String() string { return fmt.Sprintf("ssh %s@%s (%s)", c.cfg.User, c.Addr, c.Host) }

// Format prints what String does, for every verb, so %+v cannot reach the config through reflection.
func (c *Conn) Format(st fmt.State, _ rune) { _, _ = st.Write([]byte(c.String())) }

// Close ends the connection.
func (c *Conn) Close() error {
	if c.sftp != nil {
		c.sftp.Close()
		c.sftpSess.Close()
	}
	return c.ssh.Close()
}

// ExitError is a remote command that ran and failed.
type ExitError struct {
	Status int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if len(msg) > 2000 {
		msg = "…" + msg[len(msg)-2000:]
	}
	if msg == "" {
		return "exit status " + strconv.Itoa(e.Status)
	}
	return fmt.Sprintf("exit status %d: %s", e.Status, msg)
}

// Sudo runs script with sh as root through sudo (password-less, or with the configured sudo password).
func (c *Conn) Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error) {
	var r io.Reader
	if stdin != nil {
		r = bytes.NewReader(stdin)
	}
	return c.sudo(ctx, script, r, nil)
}

// SudoWatch is Sudo reading stdin from a stream (nil: none), which may block until the caller has something to
// say, and handing each line of the script's standard output to onLine as it arrives, so a caller can follow a
// long script and answer it. The command ends only once stdin has ended too.
func (c *Conn) SudoWatch(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	return c.sudo(ctx, script, stdin, onLine)
}

func (c *Conn) sudo(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	cmd := "sudo -n -- sh -c " + Quote(script)
	if !c.cfg.SudoPassword.IsZero() {
		var rnd [16]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		inner, lead := framedStdin(script, c.cfg.SudoPassword.Reveal(), "fleetctl-stdin-"+hex.EncodeToString(rnd[:]))
		cmd = "sudo -S -p '' -- sh -c " + Quote(inner)
		if stdin != nil {
			stdin = io.MultiReader(strings.NewReader(lead), stdin)
		} else {
			stdin = strings.NewReader(lead)
		}
	}
	out, err := c.run(ctx, cmd, stdin, onLine)
	var ee *ExitError
	if errors.As(err, &ee) && strings.Contains(ee.Stderr, "a password is required") {
		return out, fmt.Errorf("sudo on %s needs a password: allow %s password-less sudo or set ssh.sudo_password (%w)", c.Host, c.cfg.User, err)
	}
	if errors.As(err, &ee) && strings.Contains(ee.Stderr, "incorrect password") {
		return out, fmt.Errorf("sudo on %s refused the sudo password from ssh.sudo_password", c.Host)
	}
	return out, err
}

// framedStdin makes stdin unambiguous for a script run by `sudo -S`. sudo reads the password line from stdin (byte
// by byte) only when it needs one: not with NOPASSWD, nor with cached credentials. So the password line is followed
// by a random frame line, and the script first reads up to that line: whichever way sudo went, the script's own
// stdin starts right after it, and the password is never taken for the script's input. It returns the script to
// run and what to send before the script's stdin.
func framedStdin(script, password, frame string) (inner, lead string) {
	return "while IFS= read -r l; do [ \"$l\" = " + Quote(frame) + " ] && break; done; l=\n" + script, password + "\n" + frame + "\n"
}

// lineWriter hands each complete line written to it to onLine.
type lineWriter struct {
	partial []byte
	onLine  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.onLine(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (c *Conn) run(ctx context.Context, cmd string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommandTimeout)
	defer cancel()
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open ssh session on %s: %w", c.Host, err)
	}
	c.Stats.Sessions.Add(1)
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if onLine != nil {
		sess.Stdout = io.MultiWriter(&stdout, &lineWriter{onLine: onLine})
	}
	if stdin != nil {
		sess.Stdin = stdin
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		<-done
		return stdout.Bytes(), fmt.Errorf("remote command on %s: %w", c.Host, ctx.Err())
	}
	if err != nil {
		var xe *ssh.ExitError
		if errors.As(err, &xe) {
			return stdout.Bytes(), &ExitError{Status: xe.ExitStatus(), Stderr: stderr.String()}
		}
		return stdout.Bytes(), fmt.Errorf("remote command on %s: %w", c.Host, err)
	}
	return stdout.Bytes(), nil
}

// sftpClient opens the sftp subsystem once per connection. Its requests pass through privateModes, so every
// directory and file it creates is private from the request that creates it.
func (c *Conn) sftpClient() (*sftp.Client, error) {
	c.sftpOnce.Do(func() {
		c.Stats.Sessions.Add(1) // the subsystem is one more session channel
		c.sftp, c.sftpErr = c.openSFTP()
		if c.sftpErr != nil {
			c.sftpErr = fmt.Errorf("open sftp on %s: %w", c.Host, c.sftpErr)
		}
	})
	return c.sftp, c.sftpErr
}

func (c *Conn) openSFTP() (*sftp.Client, error) {
	sess, err := c.ssh.NewSession()
	if err != nil {
		return nil, err
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		sess.Close()
		return nil, err
	}
	cl, err := sftp.NewClientPipe(r, &privateModes{w: w})
	if err != nil {
		sess.Close()
		return nil, err
	}
	c.sftpSess = sess
	return cl, nil
}

// SFTP packet types and attribute flags (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks).
const (
	sftpOpen        = 3
	sftpMkdir       = 14
	sftpAttrPerm    = 0x4
	sftpOpenCreate  = 0x8
	sftpPrivateDir  = 0o700
	sftpPrivateFile = 0o600
)

// privateModes is the sftp client's request stream with a mode added to every request that creates something:
// 0700 for MKDIR, 0600 for an OPEN that may create. The sftp library sends those requests with no attributes, and
// the server then creates with 0777 or 0666 less its umask; a later chmod would leave a moment in which another
// user could open the new directory. The server applies the mode in the creating call (mkdir(2), open(2)).
type privateModes struct {
	w   io.WriteCloser
	buf []byte
}

func (p *privateModes) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for len(p.buf) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(p.buf))
		if len(p.buf) < n {
			break
		}
		if _, err := p.w.Write(withPrivateMode(p.buf[:n])); err != nil {
			return 0, err
		}
		p.buf = append(p.buf[:0], p.buf[n:]...)
	}
	return len(b), nil
}

func (p *privateModes) Close() error { return p.w.Close() }

// withPrivateMode returns pkt (one whole packet: length, type, id, ...) with a permissions attribute when it is a
// MKDIR, or an OPEN with the create flag, that carries no attribute; any other packet unchanged.
func withPrivateMode(pkt []byte) []byte {
	if len(pkt) < 13 || (pkt[4] != sftpOpen && pkt[4] != sftpMkdir) {
		return pkt
	}
	pathLen := int(binary.BigEndian.Uint32(pkt[9:13]))
	rest := pkt[min(13+pathLen, len(pkt)):] // after the path: [pflags] attr-flags
	mode := uint32(sftpPrivateDir)
	if pkt[4] == sftpOpen {
		if len(rest) != 8 || binary.BigEndian.Uint32(rest)&sftpOpenCreate == 0 {
			return pkt
		}
		rest, mode = rest[4:], sftpPrivateFile
	}
	if len(rest) != 4 || binary.BigEndian.Uint32(rest) != 0 {
		return pkt
	}
	out := make([]byte, 0, len(pkt)+4)
	out = binary.BigEndian.AppendUint32(out, uint32(len(pkt)))
	out = append(out, pkt[4:len(pkt)-4]...)
	out = binary.BigEndian.AppendUint32(out, sftpAttrPerm)
	return binary.BigEndian.AppendUint32(out, mode)
}

// File is a file to stage on a host: its name inside the staging directory (one path element), and its content.
type File struct {
	Name string
	Data []byte
}

// StagePrefix begins the name of every directory fleetctl stages files in or works in on a host: /tmp/fleetctl.*.
const StagePrefix = "/tmp/fleetctl."

// Stage creates a private directory on the host (owned by the login user, under /tmp, with a random name, mode
// 0700 from the request that creates it) and uploads files into it by sftp, each mode 0600 likewise. It costs no
// shell session: the directory is made over the connection's one sftp channel, which the uploads share. The
// directory is only a hand-over: the root command that uses it takes it out of /tmp first and verifies every
// file it takes (see system.RunFragments), so neither the login user nor anyone else can change what root
// installs. When that command cannot take it (sudo failed, the run was cancelled), the caller removes it with
// Unstage; a failed Stage removes it itself.
func (c *Conn) Stage(ctx context.Context, files []File) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, f := range files {
		if f.Name == "" || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, "/\x00") {
			return "", fmt.Errorf("stage %q on %s: a staged file's name is one path element", f.Name, c.Host)
		}
	}
	cl, err := c.sftpClient()
	if err != nil {
		return "", err
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	dir := StagePrefix + hex.EncodeToString(rnd[:])
	// Mkdir fails when the name exists, so nobody can have prepared it.
	if err := cl.Mkdir(dir); err != nil {
		return "", fmt.Errorf("create staging directory on %s: %w", c.Host, err)
	}
	for _, f := range files {
		if err := c.upload(ctx, cl, dir+"/"+f.Name, f.Data); err != nil {
			_ = c.Unstage(ctx, dir)
			return "", fmt.Errorf("upload %s to %s: %w", f.Name, c.Host, err)
		}
	}
	return dir, nil
}

// Unstage removes a staging directory that Stage made, if it is still there, over sftp as the login user. It
// works on a cancelled ctx too (a run being aborted still cleans up), within a few seconds.
func (c *Conn) Unstage(ctx context.Context, dir string) error {
	if !strings.HasPrefix(dir, StagePrefix) || strings.Contains(dir[len(StagePrefix):], "/") {
		return fmt.Errorf("unstage %s on %s: not a staging directory", dir, c.Host)
	}
	cl, err := c.sftpClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cl.RemoveAll(dir) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return fmt.Errorf("remove staging directory %s on %s: %w", dir, c.Host, ctx.Err())
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove staging directory %s on %s: %w", dir, c.Host, err)
	}
	return nil
}

func (c *Conn) upload(ctx context.Context, cl *sftp.Client, p string, data []byte) error {
	f, err := cl.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	c.Stats.Uploads.Add(1)
	return nil
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
