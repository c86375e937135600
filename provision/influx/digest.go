package influx

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/fleetctl/fleetctl/provision/plan"
)

// digest fingerprints actual, non-secret state for plan.Change.ReadDigest.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// field is a plain before → after field.
func field(name, before, after string) plan.Field {
	return plan.Field{Name: name, Before: before, After: after}
}

// sensitiveField says that a secret changes and nothing else: no value, hash or length. It is listed only when
// the secret changes.
func sensitiveField(name string) plan.Field { return plan.Field{Name: name, Sensitive: true} }

// onlyChanged keeps the fields that differ: an update lists what it changes, a create lists everything.
func onlyChanged(fs []plan.Field) []plan.Field {
	var out []plan.Field
	for _, f := range fs {
		if f.Changed() {
			out = append(out, f)
		}
	}
	return out
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// action picks create or update for a resource that differs.
func action(exists bool) plan.Action {
	if exists {
		return plan.Update
	}
	return plan.Create
}
