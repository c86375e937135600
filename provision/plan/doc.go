// Package plan holds what fleetctl decided to change, independent of how it is shown or carried out: a Plan of
// per-host Changes, each with an Address, an Action and the Before and After values of the resource. Secrets never
// enter a Change: sensitive fields carry only the fact that they change. An apply's Outcome says per host what was
// applied, and Divergences what differs from the plan; addresses (HOST/KIND:NAME) and their globs are defined here.
// Subpackage planfile is the saved plan's file format.
package plan
