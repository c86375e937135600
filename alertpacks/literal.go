package alertpacks

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// EscapeString returns s escaped for the inside of a TICK single-quoted string literal.
//
// Kapacitor's lexer knows exactly one escape in single-quoted strings: \' is a quote. Any other backslash is kept
// as is, so "a\b" needs no escaping, but there is no way to write a string that ends in a backslash (the closing
// quote would read as \'); such a value is refused rather than rendered into a script that says something else.
func EscapeString(s string) (string, error) {
	if strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("%q ends with a backslash, which a TICK string literal cannot hold (it would escape the closing quote)", s)
	}
	return strings.ReplaceAll(s, `'`, `\'`), nil
}

// QuoteString returns s as a complete TICK single-quoted string literal.
func QuoteString(s string) (string, error) {
	e, err := EscapeString(s)
	if err != nil {
		return "", err
	}
	return "'" + e + "'", nil
}

// QuoteRegex returns re as a TICK regex literal /re/ after checking it compiles (Kapacitor compiles it with Go's
// regexp too). In a regex literal only \/ is an escape, so every slash gets a backslash and a trailing backslash is
// refused, as for strings.
func QuoteRegex(re string) (string, error) {
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("invalid regular expression: %w", err)
	}
	if strings.HasSuffix(re, `\`) {
		return "", fmt.Errorf("regular expression %q ends with a backslash", re)
	}
	return "/" + strings.ReplaceAll(re, "/", `\/`) + "/", nil
}

// isTickDuration reports whether s is a TICK duration literal: digits and one unit (Kapacitor's lexer has no
// fractions and no compound durations).
func isTickDuration(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	switch s[i:] {
	case "u", "µ", "ms", "s", "m", "h", "d", "w":
		return true
	}
	return false
}

// DurationLiteral renders d as a TICK duration literal in the largest unit that holds it exactly.
func DurationLiteral(d time.Duration) (string, error) {
	if d < 0 {
		return "", fmt.Errorf("negative duration %s", d)
	}
	if d == 0 {
		return "0s", nil
	}
	units := []struct {
		d    time.Duration
		name string
	}{
		{7 * 24 * time.Hour, "w"}, {24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"},
		{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "u"},
	}
	for _, u := range units {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name, nil
		}
	}
	return "", fmt.Errorf("duration %s is finer than a microsecond, which TICK cannot express", d)
}

// literal renders value as a TICK literal of type typ, or says why it does not fit.
func literal(typ VarType, value any) (string, error) {
	switch typ {
	case Number, Int, Float:
		return numberLiteral(typ, value)
	case String:
		s, ok := value.(string)
		if !ok {
			return "", typeErr("a string", value)
		}
		return QuoteString(s)
	case Duration:
		switch v := value.(type) {
		case time.Duration:
			return DurationLiteral(v)
		case string:
			s := strings.TrimSpace(v)
			if isTickDuration(s) {
				return s, nil
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				return "", fmt.Errorf("want a duration such as 15m, 1h30m or 2d, got %q", v)
			}
			return DurationLiteral(d)
		default:
			return "", typeErr("a duration string such as \"15m\"", value)
		}
	case Regex:
		s, ok := value.(string)
		if !ok {
			return "", typeErr("a regular expression string", value)
		}
		return QuoteRegex(s)
	}
	return "", fmt.Errorf("unknown type %q", typ)
}

func numberLiteral(typ VarType, value any) (string, error) {
	var (
		i       int64
		f       float64
		isFloat bool
	)
	switch v := value.(type) {
	case int:
		i = int64(v)
	case int8:
		i = int64(v)
	case int16:
		i = int64(v)
	case int32:
		i = int64(v)
	case int64:
		i = v
	case uint:
		if uint64(v) > math.MaxInt64 {
			return "", fmt.Errorf("%d is too large", v)
		}
		i = int64(v)
	case uint8:
		i = int64(v)
	case uint16:
		i = int64(v)
	case uint32:
		i = int64(v)
	case uint64:
		if v > math.MaxInt64 {
			return "", fmt.Errorf("%d is too large", v)
		}
		i = int64(v)
	case float32:
		f, isFloat = float64(v), true
	case float64:
		f, isFloat = v, true
	default:
		want := "a number"
		if typ == Int {
			want = "a whole number"
		}
		return "", typeErr(want, value)
	}
	if isFloat && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return "", fmt.Errorf("want a finite number, got %v", f)
	}
	switch typ {
	case Int:
		if isFloat {
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return "", fmt.Errorf("want a whole number, got %v", f)
			}
			i = int64(f)
		}
		return strconv.FormatInt(i, 10), nil
	case Float:
		if !isFloat {
			f = float64(i)
		}
		return floatLiteral(f), nil
	default: // Number
		if isFloat {
			return floatLiteral(f), nil
		}
		return strconv.FormatInt(i, 10), nil
	}
}

// floatLiteral always has a decimal point and never an exponent: TICK reads "2" as an integer and has no
// exponent syntax.
func floatLiteral(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func typeErr(want string, got any) error {
	if s, ok := got.(string); ok {
		return fmt.Errorf("want %s, got the string %q", want, s)
	}
	return fmt.Errorf("want %s, got %v (%T)", want, got, got)
}

// checkHost says why a server name cannot be substituted for $reported_hostname. The inventory allows far less;
// this is the renderer's own guarantee that a name never changes what the script means.
func checkHost(host string) error {
	if host == "" {
		return errors.New("empty host name")
	}
	for _, r := range host {
		if unicode.IsControl(r) {
			return fmt.Errorf("host name %q contains a control character", host)
		}
	}
	if strings.Contains(host, "{{") || strings.Contains(host, "}}") {
		// Kapacitor runs .id() and .message() strings through Go templates.
		return fmt.Errorf("host name %q contains {{ or }}, which Kapacitor would read as a template action", host)
	}
	if _, err := EscapeString(host); err != nil {
		return fmt.Errorf("host name: %w", err)
	}
	return nil
}
