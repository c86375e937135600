package influx

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	client "github.com/influxdata/influxdb1-client/v2"
)

// Probe is where to look for a host's newest point: one field of one measurement its agent writes, in the host's
// database and retention policy ("" for the database's default). Points are told apart by their "host" tag, which
// the agent sets to the host's inventory name.
type Probe struct {
	Host        string
	Database    string
	RP          string
	Measurement string
	Field       string
}

// LastPoints is the outcome of one LastPoints call: the newest point's time per host tag (hosts without a point
// are absent), and per host the error that kept its database from being read.
type LastPoints struct {
	Times  map[string]time.Time
	Errors map[string]error
}

// lastPointBatch is how many statements go in one request.
const lastPointBatch = 100

// LastPoints finds, for every probe, the time of the newest point its host wrote: one SHOW DATABASES, then one
// request carrying one statement per database and measurement (`SELECT last(field) … GROUP BY "host"`), batched
// by lastPointBatch. A database that does not exist means no point, not an error. When a batch fails as a whole
// (InfluxDB reports the first failing statement and skips the rest), its statements are sent again one at a time,
// so one bad database cannot hide the others.
func (c *Client) LastPoints(ctx context.Context, probes []Probe) (LastPoints, error) {
	out := LastPoints{Times: map[string]time.Time{}, Errors: map[string]error{}}
	res, err := c.Query(ctx, "", "SHOW DATABASES")
	if err != nil {
		return out, fmt.Errorf("list influxdb databases: %w", err)
	}
	exists := map[string]bool{}
	for _, r := range res {
		for _, s := range r.Series {
			for _, row := range s.Values {
				exists[cell(row, 0)] = true
			}
		}
	}
	stmts, hostsOf := LastPointStatements(probes, exists)
	for i := 0; i < len(stmts); i += lastPointBatch {
		batch := stmts[i:min(i+lastPointBatch, len(stmts))]
		results, err := c.Query(ctx, "", strings.Join(batch, ";\n"))
		if err != nil && ctx.Err() == nil && len(batch) > 1 {
			results, err = nil, nil
			for _, st := range batch {
				r, err1 := c.Query(ctx, "", st)
				if err1 != nil {
					for _, h := range hostsOf[st] {
						out.Errors[h] = fmt.Errorf("read the newest point: %w", err1)
					}
					r = []client.Result{{}}
				}
				results = append(results, r...)
			}
		}
		if err != nil {
			for _, st := range batch {
				for _, h := range hostsOf[st] {
					out.Errors[h] = fmt.Errorf("read the newest point: %w", err)
				}
			}
			continue
		}
		if err := collectLastPoints(results, out.Times); err != nil {
			return out, err
		}
	}
	return out, nil
}

// LastPointStatements are the statements LastPoints sends for the probes whose database exists, sorted, one per
// database, retention policy and measurement, and for each the hosts it answers for.
func LastPointStatements(probes []Probe, exists map[string]bool) ([]string, map[string][]string) {
	hostsOf := map[string][]string{}
	for _, p := range probes {
		if !exists[p.Database] {
			continue
		}
		from := QuoteIdent(p.Database) + "."
		if p.RP != "" {
			from += QuoteIdent(p.RP)
		}
		from += "." + QuoteIdent(p.Measurement)
		st := fmt.Sprintf(`SELECT last(%s) FROM %s GROUP BY "host"`, QuoteIdent(p.Field), from)
		hostsOf[st] = append(hostsOf[st], p.Host)
	}
	stmts := make([]string, 0, len(hostsOf))
	for st := range hostsOf {
		stmts = append(stmts, st)
	}
	sort.Strings(stmts)
	return stmts, hostsOf
}

// collectLastPoints reads the series of last() results, one per "host" tag, into times (the newest wins when a
// host appears in more than one).
func collectLastPoints(results []client.Result, times map[string]time.Time) error {
	for _, r := range results {
		for _, s := range r.Series {
			host := s.Tags["host"]
			tcol := column(s.Columns, "time")
			if host == "" || tcol < 0 {
				continue
			}
			for _, row := range s.Values {
				at, err := time.Parse(time.RFC3339Nano, cell(row, tcol))
				if err != nil {
					return errors.Join(fmt.Errorf("influxdb: a point of host %q has a time that is not RFC 3339: %q", host, cell(row, tcol)), err)
				}
				if at.After(times[host]) {
					times[host] = at
				}
			}
		}
	}
	return nil
}
