package cli

import (
	"fmt"
	"runtime"
	"strings"
)

// Set by the release build (build/release) with -ldflags "-X ...cli.stampedVersion=v1.2.0 -X
// ...cli.stampedCommit=<sha>[-dirty]". They are package variables because the linker can set nothing else; nothing
// assigns them at run time. A plain go build leaves them empty, and the version comes from the build info.
var (
	stampedVersion string
	stampedCommit  string
)

// stamped is the version line of a release binary: version, commit, Go version and platform.
func stamped() string {
	commit, dirty := strings.CutSuffix(stampedCommit, "-dirty")
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown-commit"
	}
	if dirty {
		commit += "+dirty"
	}
	return fmt.Sprintf("fleetctl %s %s (%s %s/%s)", stampedVersion, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
