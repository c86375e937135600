package inventory

// The checks Load applies to names, addresses and users, for tools that write inventories (the Ansible importer)
// and must refuse what Load would, at the place in their own input where the value came from.

// CheckName explains why s is not a valid host or group name and suggests a fix; both are "" when s is valid.
func CheckName(s string) (problem, fix string) {
	if why := checkName(s); why != "" {
		return why, nameFix(s)
	}
	return "", ""
}

// CheckAddress explains why s is not a valid host address (an IP address or DNS name, no port, no user), with a
// fix when one is obvious; problem is "" when s is valid.
func CheckAddress(s string) (problem, fix string) { return checkAddress(s) }

// ValidUser reports whether s is accepted as an SSH login user.
func ValidUser(s string) bool { return s != "" && userRE.MatchString(s) }

// DefaultDatabase is the InfluxDB database of a host that sets none: its name with "." and "-" turned into "_".
func DefaultDatabase(host string) string { return defaultDatabase(host) }
