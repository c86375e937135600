// Package grafana manages what fleetctl owns in Grafana for each host: one InfluxQL datasource pointing at the
// host's InfluxDB database with the host's read-only user. The datasource is an engine.Resource of kind
// "grafana.datasource" (Read → Diff → Apply), addressed by a deterministic uid the caller chooses.
//
// Client talks to Grafana's HTTP API with a service-account token (Bearer) or basic auth, with a context on every
// call. It uses github.com/grafana-tools/sdk for the datasource model and the server health check, and plain
// net/http for the uid-based datasource endpoints the SDK lacks (see Client).
//
// Grafana never returns secrets (only secureJsonFields booleans), so the resource stores a keyed fingerprint of
// the password it set (secret.Fingerprint) in the datasource's jsonData and compares that on later runs: a
// changed password shows as a sensitive update, an unchanged one as nothing, and the password itself never
// appears in a plan, an error or a log.
package grafana
