// Package inventory owns fleetctl's inventory file: the TOML that lists the servers to monitor and the InfluxDB,
// Grafana and Kapacitor servers they report to. It parses and validates the file, applies defaults, and resolves
// every host's settings (groups and defaults merged in), so the engine works from final values only.
// FORMAT.md in this folder is the reference for users; testdata/example.toml is a complete example.
//
// # Strictness
//
// Load reports every problem of a file at once, as an Errors of *Error, each with file, line, key and a fix:
//
//	inventory.toml:12: hosts[2].adress: unknown key (did you mean "address"?)
//
// Unknown keys, wrong types, invalid names, addresses, URLs, ports and durations, duplicate hosts (names compared
// ignoring case, databases, address and port), unknown groups and inline secrets are all errors: a typo that
// silently changes nothing is worse than a refusal. Names the inventory cannot check alone (alert packs, inputs,
// profiles, vars) are returned by Refs with their places, for the engine to check against what it ships.
//
// # Secrets
//
// Secrets are never in the file: a SecretRef names an environment variable or a file, and is read only by
// SecretRef.Resolve. Loading, validating and rendering therefore work without any secret at hand.
//
// # Merge rules
//
// [defaults], each [groups.NAME] and each [[hosts]] entry accept the same settings keys. For a host they apply in
// this order: defaults, then its groups in the order its groups key lists them, then the host itself.
//
//   - alert_packs replaces the list built so far; then alert_packs_add appends what is missing and
//     alert_packs_drop removes. Defaults usually set alert_packs; groups and hosts usually add and drop.
//   - inputs_add and inputs_drop are changes to the input profile: an add cancels an earlier drop of the same
//     input and the other way round. The result is Host.InputsAdd and Host.InputsDrop. There is no full input list:
//     a different set of inputs is a different profile.
//   - profile: the last level that sets it wins; "base" when none does.
//   - vars merge key by key; the last level that sets a key wins.
//
// Naming the same item in _add and _drop of one level, or twice in one list, is an error.
package inventory
