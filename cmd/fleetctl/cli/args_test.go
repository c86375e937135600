package cli

import (
	"os"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp(IO{}, &runState{stop: make(chan struct{})})
	for _, tt := range []struct{ in, want string }{
		{"plan -i inv.toml web1 --detailed-exitcode", "plan -i inv.toml --detailed-exitcode -- web1"},
		{"plan web1 --limit web1", "plan --limit web1 -- web1"},
		{"plan -i inv.toml web1 --out F", "plan -i inv.toml --out F -- web1"},
		{"apply saved.plan --auto-approve --batch 2", "apply --auto-approve --batch 2 -- saved.plan"},
		// a value is never taken for an argument, in any flag spelling
		{"apply --limit web1 F -f 3 --max-fail=1 -l=db", "apply --limit web1 -f 3 --max-fail=1 -l=db -- F"},
		{"render --host web1 -i inv.toml", "render --host web1 -i inv.toml"},
		// a boolean flag takes no value: what follows is an argument
		{"apply --auto-approve saved.plan", "apply --auto-approve -- saved.plan"},
		// after --, everything is an argument; "-" alone is an argument
		{"plan -i x -- --limit web1", "plan -i x -- --limit web1"},
		{"plan - -i x", "plan -i x -- -"},
		// unknown flags stay flags, for the parser to refuse
		{"plan web1 --bogus", "plan --bogus -- web1"},
		// a flag missing its value is left for the parser to report
		{"plan --forks", "plan --forks"},
		// no command, an unknown command, help and shell completion are left alone
		{"", ""},
		{"nosuch web1 --limit x", "nosuch web1 --limit x"},
		{"-h plan", "-h plan"},
		{"help plan", "help plan"},
		{"plan web1 -h", "plan -h"},
		{"plan web1 --generate-bash-completion", "plan web1 --generate-bash-completion"},
	} {
		in := append([]string{"fleetctl"}, strings.Fields(tt.in)...)
		got := strings.Join(flagsFirst(app, in)[1:], " ")
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// /dev/null is a character device, not a terminal: apply must not prompt on it.
func TestIsTerminalRefusesDevNull(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("/dev/null taken for a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(r) {
		t.Fatal("a pipe taken for a terminal")
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"web1": "web1", "inv.toml": "inv.toml", "web,db-1": "web,db-1",
		"web*": "'web*'", "!chroot": "'!chroot'", "it's": `'it'\''s'`} {
		if got := shellWord(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
