// Package remote is fleetctl's one SSH connection per host: dialing with host keys verified against known_hosts,
// running commands (as the login user or through sudo) with a context, and staging files by sftp in a private
// directory. It counts sessions (the sftp channel included) so benchmarks can show how many round trips a host
// cost.
package remote
