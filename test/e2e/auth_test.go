package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSudoPasswordFromSecretFile reaches a host as a user whose sudo asks for a password; the password comes from a
// secret file. A wrong password is refused with a clear message, and never printed.
func TestSudoPasswordFromSecretFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostSudo}, "", "")
	const user, pw = "ops", "Sudo-Pass-e2e-42"
	// A user with the bed's client key whose sudo needs its password.
	e.ssh(hostSudo, `set -e
		id ops >/dev/null 2>&1 || sudo useradd -m -s /bin/sh ops
		echo 'ops:`+pw+`' | sudo chpasswd
		sudo install -d -m 700 -o ops -g ops /home/ops/.ssh
		sudo install -m 600 -o ops -g ops /home/deploy/.ssh/authorized_keys /home/ops/.ssh/authorized_keys
		echo 'ops ALL=(ALL) ALL' | sudo tee /etc/sudoers.d/ops >/dev/null`)
	pwFile := filepath.Join(e.dir, "sudo-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.edit(`user = "deploy"`, `user = "`+user+`"`+"\nsudo_password = { file = \"sudo-password\" }")

	out := e.must("plan")
	if !strings.Contains(out, "+ create "+hostSudo+"/package:telegraf") {
		t.Fatalf("plan through password sudo did not read the host:\n%s", out)
	}

	if err := os.WriteFile(pwFile, []byte("wrong-password-e2e\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := e.run("plan")
	if code != 1 || !strings.Contains(out, "sudo on "+hostSudo+" refused the sudo password") || strings.Contains(out, "wrong-password-e2e") {
		t.Fatalf("a wrong sudo password: exit %d\n%s", code, out)
	}

	// Without any password source, the error says what to configure.
	e.edit(`sudo_password = { file = "sudo-password" }`, "")
	out, _, _ = e.run("plan")
	if !strings.Contains(out, "needs a password: allow ops password-less sudo or set ssh.sudo_password") {
		t.Fatalf("missing sudo password not explained:\n%s", out)
	}
	for _, o := range e.outputs {
		if strings.Contains(o, pw) {
			t.Fatalf("sudo password printed:\n%s", o)
		}
	}
}

// TestSSHAgent logs in with a key that only ssh-agent holds.
func TestSSHAgent(t *testing.T) {
	e := newEnv(t, []string{hostAgent}, "", "")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("start ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	eventually(t, 5*time.Second, "ssh-agent socket", func() (bool, string) { _, err := os.Stat(sock); return err == nil, "" })
	add := exec.Command("ssh-add", e.bed.SSH.ClientKey)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}
	e.edit(`identity_files = ["`+e.bed.SSH.ClientKey+`"]`+"\nuse_agent = false", "use_agent = true")
	t.Setenv("SSH_AUTH_SOCK", sock)
	// The plan read the host (a fresh one, so its package is to install): only a login shows that.
	if s := hostSection(e.must("plan"), hostAgent); !strings.Contains(s, "+ create "+hostAgent+"/package:telegraf") {
		t.Fatalf("plan through ssh-agent did not read the host:\n%s", s)
	}
	// The agent's key is what logged in: with another key in the agent instead, the host refuses the same run.
	other := filepath.Join(t.TempDir(), "other")
	for _, args := range [][]string{{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other}, {"ssh-add", "-D"}, {"ssh-add", other}} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	if out, stderr, code := e.run("plan"); code != 1 || !strings.Contains(out, `ssh login as "`+e.bed.SSH.User+`" on `) || !strings.Contains(out, "refused") {
		t.Fatalf("an agent holding another key: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, stderr, code := e.run("plan"); code != 1 || !strings.Contains(stderr, "SSH_AUTH_SOCK is empty") {
		t.Fatalf("no agent: exit %d %s", code, stderr)
	}
}
