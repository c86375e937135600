// Package testbed finds the running test bed (see README.md beside this file) and hands its servers, hosts and
// credentials to integration tests.
//
// A test calls Require(t). When the bed is not up the test fails, unless the environment explicitly allows skipping
// (FLEETCTL_ALLOW_SKIP=1) and it is not a CI run (CI unset): then it skips with a message saying how to bring the bed up.
// .ci/run sets CI=1 and refuses FLEETCTL_ALLOW_SKIP, and Require is the only place a test of the project may skip,
// so no skipped test can pass CI.
package testbed
