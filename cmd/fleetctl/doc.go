// Command fleetctl puts TICK-stack monitoring on a fleet of servers: Telegraf over SSH, a database and users on
// InfluxDB, a Grafana datasource and Kapacitor alert tasks per server. main only wires the process's streams and
// signals to package cli, which owns the command line.
package main
