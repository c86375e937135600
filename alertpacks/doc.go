// Package alertpacks owns fleetctl's alert packs: Kapacitor TICK script templates with their declared variables,
// and rendering them into the script of one server's stream task. It ships cpu, memory, disk, swap, load,
// deadman, diskio, net and procs (embedded from packs/); every pack built on stateDuration has a warn level beside
// its critical one (deadman has no duration to count, so it stays critical only). It loads a team's own packs from a directory with the same layout, and checks every
// rendered script offline with Kapacitor's own TICK parser (github.com/influxdata/kapacitor/tick/ast) before
// anything is sent to a server. Defining the tasks on Kapacitor is provision/kapacitor's job.
//
// # Layout
//
// A pack is a directory <pack>/ holding pack.toml and one or more <alert>.tick templates. Each template becomes one
// Kapacitor task per server, named <server>-<alert> (pack cpu ships cpu.tick, so server web1 gets task web1-cpu).
// pack.toml has a one-line doc and declares every variable the templates use:
//
//	doc = "CPU usage of cpu-total stays at or above a threshold for minutes"
//
//	[vars.cpu_crit]
//	default = 80            # the type follows the default: integer → number, float → float, string → string
//	doc = "CPU percent used at or above which the host counts as busy"
//
//	[vars.disk_paths]
//	type = "regex"          # explicit types: number, int, float, string, duration, regex
//	default = "^/"
//	doc = "regular expression the mount path must match"
//
// Variables share one namespace across packs (the inventory sets them per group and host), so a name may be
// declared by one pack only.
//
// # Placeholders
//
// TICK scripts carry Kapacitor's own Go templates inside string literals (.id('CPU - {{ index .Tags "host" }}')),
// so a template is not run through text/template. Rendering replaces exactly these placeholders and leaves
// everything else byte for byte:
//
//   - $reported_hostname: the server name, escaped for the inside of a TICK single-quoted string literal. It may
//     only appear inside single-quoted strings ('$reported_hostname'), as in the rollout's original scripts;
//     loading a template that uses it anywhere else fails, so a server name can never become TICK code.
//   - ${name}: a complete TICK literal of the pack variable name, typed by pack.toml: 80, 2.5, 15m, 'text',
//     /regex/. A name the pack does not declare is an error, never left in the script.
//   - ${database} and ${retention_policy}: the server's database and retention policy as string literals.
//   - ${handlers}: alone on its line inside an alert node; replaced by the topic and the handlers the caller chose
//     (.topic, .log, .email, .post), one per line at the placeholder's indentation, or removed when there are none.
//
// Every rendered script is parsed with ast.Parse; a parse error names the pack, the template file, the host and
// the template's line.
package alertpacks
