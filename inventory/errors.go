package inventory

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem of an inventory, located in its file. Its message reads
//
//	inventory.toml:12: hosts[2].adress: unknown key (did you mean "address"?)
//
// so that editors can jump to it and the reader sees what to change.
type Error struct {
	File string // the inventory file, as given to Load or Parse
	Line int    // 1-based; 0 when the problem has no place in the file (a missing section)
	Col  int    // 1-based byte column; 0 when unknown
	Key  string // the inventory key, e.g. "hosts[2].address"; empty for syntax errors
	Msg  string // what is wrong
	Fix  string // how to fix it; may be empty
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		// A key already names the spot on its line; a syntax error has only the column to point with.
		if e.Key == "" && e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Where returns "file:line" (or just "file" when the line is unknown), for fixes that point elsewhere.
func (e *Error) Where() string { return where(e.File, e.Line) }

func where(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// Errors is every problem found in one inventory, in file order. Load and Parse report all of them at once so a
// user fixes a file in one pass rather than one error per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Sort orders errors by position; errors without a line go last, in the order they were found.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// DidYouMean returns `did you mean "x"?` for the candidate closest to word, or "" when none is close enough to be
// a plausible typo. Exported so the engine can give the same hint for alert packs, inputs and profiles it knows.
func DidYouMean(word string, candidates []string) string {
	if best := Closest(word, candidates); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

// Closest is the candidate nearest to word, or "" when none is near enough to be a likely typo of it.
func Closest(word string, candidates []string) string {
	best, bestD := "", -1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if c == word {
			continue
		}
		d := distance(lw, strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if bestD < 0 {
		return ""
	}
	// Allow about one edit per three characters: "adress" → "address", but not "url" → "user".
	limit := max(1, min(len(lw), len(best))/3)
	if bestD > limit {
		return ""
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance, so a swap of two letters counts once.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
