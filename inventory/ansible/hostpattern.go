package ansible

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Host patterns as Ansible's parse_address and expand_hostname_range read them: an optional :port (or [host]:port),
// then ranges [01:20], [a:c], [1:10:2], several of them expanded left to right.

var (
	bracketedHostPort = regexp.MustCompile(`^\[(.+)\]:([0-9]+)$`)
	hostPort          = regexp.MustCompile(`^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`)
	rangeRE           = `\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	alnumRangeRE      = `\[(?:[a-zA-Z]:[a-zA-Z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`
	ipv4Part          = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|` + rangeRE + `)`
	ipv4RE            = regexp.MustCompile(`^(?:` + ipv4Part + `\.){3}` + ipv4Part + `$`)
	ipv6ishRE         = regexp.MustCompile(`^[0-9a-fA-F:.\[\]]*:[0-9a-fA-F:.\[\]]*$`)
	labelRE           = regexp.MustCompile(`^(?:[\p{L}\p{N}_]|` + alnumRangeRE + `)(?:[\p{L}\p{N}_-]|` + alnumRangeRE + `)*$`)
)

// validHost is parse_address's final check: an IPv4 or IPv6 address or a host name, each possibly with ranges.
func validHost(s string) bool {
	if ipv4RE.MatchString(s) || strings.Count(s, ":") >= 2 && ipv6ishRE.MatchString(s) {
		return true
	}
	for _, l := range strings.Split(s, ".") {
		if !labelRE.MatchString(l) || strings.HasSuffix(l, "-") || strings.HasSuffix(l, "_") {
			return false
		}
	}
	return s != ""
}

// splitHostPattern separates a host pattern from its port, as Ansible does; a pattern it cannot read as a host
// keeps its whole text and gets no port.
func splitHostPattern(pattern string) (host string, port int) {
	addr, p := pattern, ""
	for _, re := range []*regexp.Regexp{bracketedHostPort, hostPort} {
		if m := re.FindStringSubmatch(addr); m != nil {
			addr, p = m[1], m[2]
		}
	}
	if !validHost(addr) {
		return pattern, 0
	}
	if p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return pattern, 0
		}
		port = n
	}
	return addr, port
}

const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRange expands the ranges of a host pattern: web[01:03] → web01 web02 web03, db-[a:c] → db-a db-b db-c.
func expandRange(line string) ([]string, error) {
	if !strings.Contains(line, "[") {
		return []string{line}, nil
	}
	s := strings.Replace(strings.Replace(line, "[", "|", 1), "]", "|", 1)
	parts := strings.Split(s, "|")
	if len(parts) != 3 {
		return nil, fmt.Errorf("host range in %q: a range is written [begin:end] or [begin:end:step]", line)
	}
	head, nrange, tail := parts[0], parts[1], parts[2]
	bounds := strings.Split(nrange, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("host range [%s] in %q: must be begin:end or begin:end:step", nrange, line)
	}
	beg, end, step := bounds[0], bounds[1], 1
	if len(bounds) == 3 {
		n, err := strconv.Atoi(strings.TrimSpace(bounds[2]))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("host range [%s] in %q: step %q is not a positive integer", nrange, line, bounds[2])
		}
		step = n
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("host range [%s] in %q: must specify an end value", nrange, line)
	}
	fill := strconv.Itoa
	if beg[0] == '0' && len(beg) > 1 {
		if len(beg) != len(end) {
			return nil, fmt.Errorf("host range [%s] in %q: a zero-padded begin and the end must have the same length", nrange, line)
		}
		width := len(beg)
		fill = func(n int) string { return fmt.Sprintf("%0*d", width, n) }
	}
	var seq []string
	if ib, ie := strings.Index(asciiLetters, beg), strings.Index(asciiLetters, end); ib >= 0 && ie >= 0 {
		if ib > ie {
			return nil, fmt.Errorf("host range [%s] in %q: begin must not be after end", nrange, line)
		}
		for i := ib; i <= ie; i += step {
			seq = append(seq, asciiLetters[i:i+1])
		}
	} else {
		b, err1 := strconv.Atoi(strings.TrimSpace(beg))
		e, err2 := strconv.Atoi(strings.TrimSpace(end))
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("host range [%s] in %q: begin and end must both be numbers or both single letters", nrange, line)
		}
		for i := b; i <= e; i += step {
			seq = append(seq, fill(i))
		}
	}
	if len(seq) == 0 {
		return nil, fmt.Errorf("host range [%s] in %q: yields no hosts", nrange, line)
	}
	var out []string
	for _, x := range seq {
		more, err := expandRange(head + x + tail)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// expandHostPattern is Ansible's _expand_hostpattern: the host names of a pattern and its port (0 for none).
func expandHostPattern(pattern string) ([]string, int, error) {
	host, port := splitHostPattern(pattern)
	if strings.HasSuffix(strings.TrimSpace(pattern), ":") && port == 0 {
		return nil, 0, fmt.Errorf("host pattern %q ends in \":\", which is reserved for a port", pattern)
	}
	names, err := expandRange(host)
	if err != nil {
		return nil, 0, err
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "---" {
			return nil, 0, fmt.Errorf("host pattern %q: \"---\" starts a YAML document; is this a YAML file?", pattern)
		}
		if n == "" {
			return nil, 0, errors.New("empty host name")
		}
	}
	return names, port, nil
}
