// Package provision is fleetctl's engine. For every selected host it builds the desired resources (Telegraf on the
// host over SSH; database, users and grants on InfluxDB; a Grafana datasource; Kapacitor tasks), reads each one's
// actual state, diffs it into a plan.Plan, and, when applying, carries out exactly those changes. Plan and apply
// are one code path: a plan is an apply whose last step is withheld.
package provision
