package inventory

import (
	"testing"

	"github.com/BurntSushi/toml"
)

// The scanner must agree with the TOML parser on what is a key: text that only looks like a key or header (inside
// strings and comments) must not move positions.
func TestPositions(t *testing.T) {
	src := `# [[hosts]] in a comment
top = 1 # name = "x"
multi = """
[[hosts]]
name = "fake"
"""
lit = '''
[fake] '''
"quoted key" = 'a'
dotted . key = "b"
arr = [
  1, # a comment ]
  [2, 3],
  { x = 1 },
]

[[hosts]]
name = "web1"  # "quoted"

[[hosts]]
  name = "web2"
  vars = { a = "]}", b = { c = 1 } }

[hosts.extra]
d = 1979-05-27 07:32:00Z
e = "after date"

[groups."web 1".sub]
f = "\"escaped\" [x]"
`
	var m map[string]any
	if _, err := toml.Decode(src, &m); err != nil {
		t.Fatalf("fixture is not valid TOML: %v", err)
	}
	pos := positions(src)
	want := map[string]position{
		"top":                  {2, 1},
		"multi":                {3, 1},
		"lit":                  {7, 1},
		`"quoted key"`:         {9, 1},
		"dotted":               {10, 1},
		"dotted.key":           {10, 10},
		"arr":                  {11, 1},
		"arr[0]":               {12, 3},
		"arr[1]":               {13, 3},
		"arr[1][1]":            {13, 7},
		"arr[2]":               {14, 3},
		"arr[2].x":             {14, 5},
		"hosts":                {17, 3},
		"hosts[0]":             {17, 1},
		"hosts[0].name":        {18, 1},
		"hosts[1]":             {20, 1},
		"hosts[1].name":        {21, 3},
		"hosts[1].vars.a":      {22, 12},
		"hosts[1].vars.b":      {22, 22},
		"hosts[1].vars.b.c":    {22, 28},
		"hosts[1].extra":       {24, 8},
		"hosts[1].extra.d":     {25, 1},
		"hosts[1].extra.e":     {26, 1},
		`groups."web 1"`:       {28, 9},
		`groups."web 1".sub`:   {28, 17},
		`groups."web 1".sub.f`: {29, 1},
	}
	for k, w := range want {
		if got, ok := pos[k]; !ok || got != w {
			t.Errorf("%s at %v (found %v), want %v", k, got, ok, w)
		}
	}
	for _, k := range []string{"hosts[2]", "fake", "name", "hosts[0].vars"} {
		if p, ok := pos[k]; ok {
			t.Errorf("%s recorded at %v: text inside a string or comment was taken for a key", k, p)
		}
	}
}

func TestPositionsSurviveOddInput(t *testing.T) {
	// Never valid TOML, but the scanner must still end without panicking.
	for _, src := range []string{"", "[", "[[", "a = [", `a = "`, "a = {", `"""`, "a.", "= 1", "[a]]\n]"} {
		positions(src)
	}
}
