// Package plan holds what fleetctl decided to change, independent of how it is shown or carried out: a Plan of
// per-host Changes, each with an Address, an Action and the Before and After values of the resource. Secrets never
// enter a Change: sensitive fields carry only the fact that they change.
package plan
