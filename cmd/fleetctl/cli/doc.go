// Package cli is fleetctl's command line: flags, prompts and exit codes. Each command parses its flags, makes one
// call into the engine (package provision) and renders the result; nothing here decides what to change.
package cli
