package plan

import "testing"

func TestGlobRegexp(t *testing.T) {
	re := GlobRegexp("*/file:*fleetctl-inputs.conf")
	if !re.MatchString("web1/file:/etc/telegraf/telegraf.d/fleetctl-inputs.conf") || re.MatchString("web1/file:/etc/telegraf/telegraf.conf") {
		t.Fatal("glob")
	}
}
