// Package catalog is what a TICK fleet is. From the inventory's hosts it decides which resources each host gets
// and in which order: database, retention policy, users and grants on InfluxDB; a Grafana datasource; Kapacitor
// tasks rendered from alert packs, and the prune of old ones; then on the host the Telegraf repository, package,
// configuration files and service, the service watching the package and files by address. It names things (users,
// roles, datasource uids) and computes a host's desired files and scripts in one pure function, Desired, that
// render, plan and apply share. It is the engine's Builder.
package catalog
