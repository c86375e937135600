// Package resourcetest holds test helpers shared by every resource kind's integration tests: converge a set of
// resources through the engine's own plan and apply path, then prove a second plan is empty.
package resourcetest
