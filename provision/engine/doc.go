// Package engine plans and applies hosts, and knows nothing of what is provisioned. A Builder turns each host into
// its resources in order, each declared for its lane (OnServer: applied against a server by its own Apply; OnHost:
// applied on the host by a shell fragment, all of a host's in one remote command). The engine connects to every
// host, reads it in one batched command, reads and diffs every resource into a plan.Plan, and, when applying,
// carries out exactly those changes, host by host in batches within a failure budget. Plan and apply are one code
// path and one scheduler: a plan is an apply of one batch, with no budget and the last step withheld.
//
// It compiles without any server client, the inventory or the views (a test asserts it).
package engine
