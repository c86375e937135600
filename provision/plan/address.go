package plan

import (
	"regexp"
	"strings"
)

// Address is the canonical address of a resource, HOST/KIND:NAME, for example
// "web1/file:/etc/telegraf/telegraf.d/fleetctl-outputs.conf" or "web1/kapacitor.task:web1-cpu".
func Address(host, kind, name string) string { return host + "/" + kind + ":" + name }

// ChangeAddress is the address of one change: its resource's, with "#restart" or "#reload" appended for a side
// effect, so every change of a host has an address of its own.
func ChangeAddress(host, kind, name string, a Action) string {
	addr := Address(host, kind, name)
	if a.IsSideEffect() {
		addr += "#" + string(a)
	}
	return addr
}

// GlobRegexp compiles a resource address glob: * matches any run of characters (slashes included, since addresses
// hold file paths), ? one character, everything else itself.
func GlobRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// MatchAddress reports whether addr matches one of the address globs.
func MatchAddress(globs []string, addr string) bool {
	for _, g := range globs {
		if GlobRegexp(g).MatchString(addr) {
			return true
		}
	}
	return false
}
