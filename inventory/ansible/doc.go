// Package ansible imports an Ansible inventory into a fleetctl inventory (fleetctl import-ansible).
//
// Load reads the inventory as ansible-inventory does, and is tested against it (ansible-inventory --list is the
// oracle in this package's tests): an INI or YAML file, or a directory of them; groups, children (nested to any
// depth), host and group variables; ranges such as web[01:20], db-[a:c] and [1:9:2]; a port in a host pattern
// (web1:2222); hosts before any section or in no group ("ungrouped"); [all:vars]; and the group_vars/ and host_vars/
// folders beside the file (or inside the directory), with files NAME, NAME.yml, NAME.yaml, NAME.json (the first
// that exists) or a folder NAME/ read recursively in name order. YAML is read with YAML 1.1's rules, as PyYAML
// reads it for Ansible (yes is a boolean, 0755 an octal number, 1:30 the number 90). Variables are merged with
// Ansible's default precedence: all's vars, then each group's by depth, priority (ansible_group_priority) and name,
// then group_vars/all and group_vars/GROUP in that order, then the host's vars, then host_vars/HOST.
//
// # Mapping
//
//   - A host keeps its name. Its address is ansible_host (ansible_ssh_host wins where both are set), or its name;
//     its port ansible_port (ansible_ssh_port), default 22; its user ansible_user (ansible_ssh_user), default
//     Options.User. The most common user and port become [ssh] user and port; a host that differs says so.
//   - ansible_ssh_private_key_file (or ansible_private_key_file) of any host goes into ssh.identity_files: fleetctl
//     has no per-host key, and offers every listed key to every host. A relative path is resolved against
//     Options.WorkDir, where ssh would resolve it when Ansible runs there.
//   - Each Ansible group but all and ungrouped becomes a [groups.NAME] table. fleetctl groups are flat, so nested
//     children are flattened: a host lists every group it belongs to, directly or through children, in the order
//     Ansible merges their variables (broadest first). Selecting a group in fleetctl then selects the hosts of its
//     children too, as a pattern does in Ansible. all is every host (no --limit); ungrouped hosts list no group.
//   - Everything else (become settings and passwords, ssh arguments, the interpreter, any other variable, vars
//     files that are vault-encrypted or name no host or group) is listed as a comment at the end of the output,
//     with its file and line and why it was not mapped. No value is ever written there: a secret shows as
//     "ansible_become_password: not mapped (secret, value omitted)".
//
// # Refusals
//
// The import refuses, naming the file and line, rather than writing an inventory that means something else: syntax
// errors; constructs Ansible itself only warns about and skips (an unknown key in a YAML group, a group that is not
// a mapping), since skipping would drop hosts; host and group names fleetctl cannot accept (uppercase, ":", more
// than 63 characters) or that clash; a connection variable that is a Jinja2 template, vault-encrypted or of the
// wrong type; an address, port or user fleetctl refuses; two hosts reaching the same address and port, or whose
// InfluxDB databases would coincide; inventory scripts and plugin configurations (import-ansible runs nothing: import
// the output of ansible-inventory --list --yaml instead). The result is loaded with package inventory before it
// is returned, so what Convert returns always loads.
package ansible
