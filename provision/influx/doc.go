// Package influx manages what fleetctl owns on an InfluxDB 1.x server for each host: the host's database, its
// retention policies, the write-only user Telegraf writes with, the read-only user Grafana queries with, and the
// per-database grants that tie them together. Every managed thing is an engine.Resource (Read → Diff → Apply)
// of kind "influxdb.database", "influxdb.retention_policy", "influxdb.user" or "influxdb.grant".
//
// Client talks to the server's HTTP API (/query, /write, /ping) with admin credentials and a context on every
// call. It reuses the wire model of github.com/influxdata/influxdb1-client/v2 but sends requests itself; see
// Client for why. The package also holds the InfluxQL helpers the statements need: identifier quoting, string
// literal escaping, duration and privilege normalisation.
//
// Quirks of InfluxDB 1.x this package is built around:
//   - errors arrive as HTTP 200 with results[i].error; they are turned into Go errors;
//   - a user has one privilege per database and GRANT replaces it; SHOW GRANTS prints ALL PRIVILEGES and
//     NO PRIVILEGES, which ParsePrivilege normalises;
//   - SHOW USERS shows no password hash, so password drift is found by authenticating as the user;
//   - durations print normalised ("720h0m0s"), so desired "30d" is compared after normalisation.
package influx
