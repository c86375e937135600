// Package kapacitor owns fleetctl's side of a Kapacitor server: each server's alert tasks, defined from the
// scripts alertpacks renders, enabled, and kept running the script fleetctl last rendered.
//
// Client is a thin client of the HTTP API (/kapacitor/v1/tasks, net/http, a context on every call; Kapacitor's
// own client package drags in flux and arrow). Task is the engine.Resource of kind "kapacitor.task": one
// stream task <server>-<alert> with its dbrps and script, desired enabled. Prune is the resource that finds the
// tasks of a server fleetctl no longer wants and deletes them.
//
// Every script fleetctl stores starts with a marker line naming the server it belongs to. Prune deletes only
// tasks whose marker names its server: a hand-made task that happens to be called web1-test is reported, never
// deleted, and the tasks of server web1-db are not mistaken for tasks of web1 (both match "web1-*").
//
// Kapacitor behaviour this package is built around (checked against Kapacitor 1.5.9 in the integration tests):
//   - PATCHing the script of an enabled task stores the new script but the task keeps running the old one until
//     it is disabled and enabled again; fleetctl plans that as a separate Reload change with a reason.
//   - GET returns a reformatted script unless ?script-format=raw; fleetctl compares the raw script, after
//     normalising line endings and trailing whitespace, so nothing differs forever.
//   - A PATCH replaces dbrps and vars when given, but an empty vars object is ignored: vars set behind fleetctl's
//     back (they override the script's own var declarations) can only be removed by deleting and re-creating
//     the task.
//   - Creating or enabling a task whose start fails answers 500 after the task was stored as enabled; fleetctl
//     reads "executing" and plans a Reload for an enabled task that does not run.
//   - DELETE answers 204 whether or not the task exists.
//   - Listing filters by a path.Match glob and pages with offset and limit (default 100); it knows fewer fields
//     than GET of one task (asking for "template-id" is a 400).
//   - Vars PATCHed onto a task are type-checked against the script's declarations (int vs float matters).
package kapacitor
