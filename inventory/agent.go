package inventory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Agent is a host's Telegraf agent settings, merged key by key over [defaults], its groups and the host; what no
// level sets has the default in the comments.
type Agent struct {
	Interval          time.Duration // "10s"
	FlushInterval     time.Duration // the interval
	CollectionJitter  time.Duration // "0s"
	FlushJitter       time.Duration // "0s"
	MetricBatchSize   int           // 1000
	MetricBufferLimit int           // 10000
}

// DefaultAgent is the agent settings of a host no level configures.
var defaultAgent = Agent{Interval: 10 * time.Second, MetricBatchSize: 1000, MetricBufferLimit: 10000}

// Limits of the agent settings: beyond them Telegraf either refuses, or a typo (a missing unit, an extra zero) is
// far more likely than intent.
const (
	maxAgentDuration = 24 * time.Hour
	maxBatchSize     = 1_000_000
	maxBufferLimit   = 100_000_000
)

// agentLevel is what one level sets of the agent settings.
type agentLevel struct {
	durations map[string]time.Duration
	ints      map[string]int
}

var agentDurations = []string{"interval", "flush_interval", "collection_jitter", "flush_jitter"}
var agentInts = []string{"metric_batch_size", "metric_buffer_limit"}

// tagKeyRE: a global tag key, written into telegraf.conf as a bare TOML key; "host" is the agent's own tag.
var tagKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,62}$`)

// inputLevel reads the keys of a level that configure Telegraf beyond its inputs list: input_vars, global_tags
// and agent.
func (b *builder) inputLevel(t *table, l *level) {
	l.inputVars = map[string]map[string]any{}
	if vt := t.sub("input_vars"); vt != nil && !vt.missing {
		for _, input := range slices.Sorted(maps.Keys(vt.m)) {
			it := vt.sub(input)
			if it == nil {
				continue
			}
			if !itemRE.MatchString(input) {
				vt.errorf(input, `use the input's name: lowercase letters, digits, "_" and "-"`, "%q is not a valid input name", input)
				continue
			}
			vars := map[string]any{}
			for _, k := range slices.Sorted(maps.Keys(it.m)) {
				v, _ := it.get(k)
				if !varRE.MatchString(k) {
					it.errorf(k, `use letters, digits and "_", starting with a letter or "_"`, "%q is not a valid variable name", k)
					continue
				}
				if _, isTable := v.(map[string]any); isTable {
					ref := it.secret(k, b.inv)
					if !ref.IsSet() {
						continue // reported by secret
					}
					v = ref
				} else if why := checkInputValue(v); why != "" {
					it.errorf(k, "use a string, number, boolean, an array of those, or a secret source { env = \"NAME\" }", "%s", why)
					continue
				}
				vars[k] = v
				b.ref("input_var", input+"."+k, it.key(k))
				b.inv.refs[len(b.inv.refs)-1].Value = v
			}
			l.inputVars[input] = vars
			it.done()
		}
		vt.done()
	}

	l.tags = map[string]string{}
	if tt := t.sub("global_tags"); tt != nil && !tt.missing {
		for _, k := range slices.Sorted(maps.Keys(tt.m)) {
			s, ok := tt.str(k)
			switch {
			case !ok:
			case k == "host":
				tt.errorf(k, "the host tag is the host's name (agent.hostname); use another key, such as \"server\"", "reserved tag key")
			case !tagKeyRE.MatchString(k):
				tt.errorf(k, `use letters, digits, "_" and "-", starting with a letter or "_", such as "customer"`, "%q is not a valid tag key", k)
			case s == "":
				tt.errorf(k, "write a value, or remove the tag (Telegraf drops empty tags)", "empty tag value")
			default:
				l.tags[k] = s
			}
		}
		tt.done()
	}

	l.agent = agentLevel{durations: map[string]time.Duration{}, ints: map[string]int{}}
	if at := t.sub("agent"); at != nil && !at.missing {
		for _, k := range agentDurations {
			d, ok := at.duration(k)
			switch {
			case !ok:
			case (k == "interval" || k == "flush_interval") && d <= 0:
				at.errorf(k, `write a positive duration such as "10s"`, "must be positive")
			case d > maxAgentDuration:
				at.errorf(k, `write at most "24h"`, "%s is longer than a day", at.m[k])
			default:
				l.agent.durations[k] = d
			}
		}
		for _, k := range agentInts {
			n, ok := at.integer(k)
			limit := int64(maxBatchSize)
			if k == "metric_buffer_limit" {
				limit = maxBufferLimit
			}
			switch {
			case !ok:
			case n < 1 || n > limit:
				at.errorf(k, fmt.Sprintf("write a number from 1 to %d", limit), "%d is out of range", n)
			default:
				l.agent.ints[k] = int(n)
			}
		}
		at.done()
	}
}

// mergeTelegraf merges the levels' input_vars, global_tags and agent settings into h, key by key, the last level
// winning.
func mergeTelegraf(h *Host, levels []*level) {
	h.InputVars, h.GlobalTags = map[string]map[string]any{}, map[string]string{}
	a := defaultAgent
	flushSet := false
	for _, l := range levels {
		if l == nil {
			continue
		}
		for input, vars := range l.inputVars {
			if h.InputVars[input] == nil {
				h.InputVars[input] = map[string]any{}
			}
			maps.Copy(h.InputVars[input], vars)
		}
		maps.Copy(h.GlobalTags, l.tags)
		for k, d := range l.agent.durations {
			switch k {
			case "interval":
				a.Interval = d
			case "flush_interval":
				a.FlushInterval, flushSet = d, true
			case "collection_jitter":
				a.CollectionJitter = d
			case "flush_jitter":
				a.FlushJitter = d
			}
		}
		for k, n := range l.agent.ints {
			if k == "metric_batch_size" {
				a.MetricBatchSize = n
			} else {
				a.MetricBufferLimit = n
			}
		}
	}
	if !flushSet {
		a.FlushInterval = a.Interval
	}
	h.Agent = a
}

// checkAgent reports merged agent settings that contradict each other, at the host.
func (b *builder) checkAgent(t *table, h Host) {
	if a := h.Agent; a.MetricBufferLimit < a.MetricBatchSize {
		b.d.add(t.path, b.d.at(t.path), "raise agent.metric_buffer_limit (a few times the batch size) or lower agent.metric_batch_size, in [defaults], a group or the host",
			"agent.metric_buffer_limit %d is below agent.metric_batch_size %d: the agent could never send a full batch", a.MetricBufferLimit, a.MetricBatchSize)
	}
}

// checkInputValue accepts the values an input variable can take from TOML (the snippet's declaration then checks
// the type).
func checkInputValue(v any) string {
	if msg, ok := checkScalarOrArray(v); ok {
		return msg
	}
	return fmt.Sprintf("%s is not a value an input variable takes", typeName(v))
}
