// Package e2e holds fleetctl's end-to-end tests: the real CLI, in process, against the test bed's real servers and
// hosts. Each test writes its own inventory for the bed hosts it owns (see hosts.go), runs fleetctl commands, and
// checks the outcome on the servers and hosts themselves. Every output of every command is kept and searched for
// secrets at the end of the test.
package e2e
