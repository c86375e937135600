// Package templates owns the Telegraf configuration fleetctl writes on hosts: the agent file, the outputs file and
// one snippet per input plugin, embedded in the binary and rendered with missing keys as errors. Values are
// inserted as TOML string literals, so no inventory value can break the file's syntax.
package templates
