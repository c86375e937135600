package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	// sshHandshakeTimeout bounds TCP connect plus SSH handshake: every host is on this machine.
	sshHandshakeTimeout = 10 * time.Second
	// sshRunTimeout bounds one command of Run (a package install from the bed's repo included).
	sshRunTimeout = 3 * time.Minute
)

// ClientConfig is the SSH client configuration of the bed's user and client key. Host keys are checked strictly
// against the known_hosts file knownHosts: an unknown host or a changed key fails the handshake.
func (b *Bed) ClientConfig(knownHosts string) (*ssh.ClientConfig, error) {
	pem, err := os.ReadFile(b.SSH.ClientKey)
	if err != nil {
		return nil, fmt.Errorf("read client key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("parse client key %s: %w", b.SSH.ClientKey, err)
	}
	check, err := knownhosts.New(knownHosts)
	if err != nil {
		return nil, fmt.Errorf("read known hosts: %w", err)
	}
	return &ssh.ClientConfig{
		User:            b.SSH.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: check,
		Timeout:         sshHandshakeTimeout,
	}, nil
}

// Dial logs in to h as the bed's user, checking its host key against the bed's known_hosts: through its jump host
// when it has one, with its own key (and the certificate beside it) when it has one.
func (b *Bed) Dial(ctx context.Context, h Host) (*ssh.Client, error) {
	cfg, err := b.ClientConfig(b.SSH.KnownHosts)
	if err != nil {
		return nil, err
	}
	if h.ClientKey != "" {
		signer, err := certSigner(h.ClientKey)
		if err != nil {
			return nil, err
		}
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	}
	if h.Jump == "" {
		return DialConfig(ctx, h.Addr(), cfg)
	}
	jcfg, err := b.ClientConfig(b.SSH.KnownHosts)
	if err != nil {
		return nil, err
	}
	jump, err := DialConfig(ctx, h.Jump, jcfg)
	if err != nil {
		return nil, fmt.Errorf("jump host of %s: %w", h.Name, err)
	}
	conn, err := jump.DialContext(ctx, "tcp", h.Addr())
	if err != nil {
		jump.Close()
		return nil, fmt.Errorf("connect to %s through %s: %w", h.Addr(), h.Jump, err)
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, h.Addr(), cfg)
	if err != nil {
		jump.Close()
		return nil, fmt.Errorf("ssh handshake with %s through %s: %w", h.Addr(), h.Jump, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	go func() { _ = client.Wait(); jump.Close() }()
	return client, nil
}

// certSigner is the key at path with its certificate (path-cert.pub).
func certSigner(path string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("parse client key %s: %w", path, err)
	}
	raw, err := os.ReadFile(path + "-cert.pub")
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(raw)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s-cert.pub: %w", path, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, fmt.Errorf("%s-cert.pub is not a certificate", path)
	}
	return ssh.NewCertSigner(cert, signer)
}

// DialConfig connects to addr and completes the SSH handshake with cfg. ctx bounds the connect and the handshake,
// and so does cfg.Timeout when set; the returned client is no longer tied to ctx.
func DialConfig(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// A cancelled context interrupts a handshake in progress by moving the deadline to the past.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() {
		if err == nil {
			_ = c.Close()
		}
		_ = conn.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, context.Cause(ctx))
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// RunContext runs cmd on h in a new session and returns its combined stdout and stderr. A non-zero exit is an error
// (an *ssh.ExitError inside); cancelling ctx ends the connection and the command with it.
func (b *Bed) RunContext(ctx context.Context, h Host, cmd string) (string, error) {
	client, err := b.Dial(ctx, h)
	if err != nil {
		return "", fmt.Errorf("run on %s: %w", h.Name, err)
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { _ = client.Close() })
	defer stop()
	sess, err := client.NewSession()
	if err != nil {
		return "", fmt.Errorf("run on %s: open session: %w", h.Name, err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("run %q on %s: %w", cmd, h.Name, context.Cause(ctx))
	}
	if err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return string(out), fmt.Errorf("run %q on %s: exit status %d: %w", cmd, h.Name, exit.ExitStatus(), err)
		}
		return string(out), fmt.Errorf("run %q on %s: %w", cmd, h.Name, err)
	}
	return string(out), nil
}

// Run runs cmd on h and returns its combined output, ending the test when it fails. It uses the test's context;
// in a Cleanup, where that context is already cancelled, a fresh one.
func (b *Bed) Run(t testing.TB, h Host, cmd string) string {
	t.Helper()
	ctx := t.Context()
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, sshRunTimeout)
	defer cancel()
	out, err := b.RunContext(ctx, h, cmd)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}
