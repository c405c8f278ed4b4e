package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Quartz cron expressions, as the Jobs API takes them in
// schedule.quartz_cron_expression:
//
//	seconds minutes hours day-of-month month day-of-week [year]
//
// Each field is a comma-separated list of items; an item is *, a value, a
// range a-b, optionally followed by /step (and a/step alone means "from a,
// every step"). Months take JAN-DEC and days of the week SUN-SAT (1 = SUN).
// Day-of-month also takes L (last day), L-n (n days before the last), nW
// (nearest weekday to n) and LW; day-of-week takes nL (last such day of the
// month) and n#k (k-th such day). Exactly one of day-of-month and
// day-of-week is ?, which means "no specific value": Quartz does not
// support both being given.

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
}

var cronFields = []cronField{
	{name: "seconds", min: 0, max: 59},
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	{name: "year", min: 1970, max: 2099},
}

const (
	fDOM = 3
	fDOW = 5
)

// checkQuartz returns nil when expr is a valid Quartz cron expression, or
// an error that says what is wrong with it.
func checkQuartz(expr string) error {
	parts := strings.Fields(expr)
	if len(parts) < 6 || len(parts) > 7 {
		msg := fmt.Sprintf("has %d fields; a Quartz cron expression has 6 or 7: seconds minutes hours day-of-month month day-of-week [year]", len(parts))
		if len(parts) == 5 {
			msg += `; for a Unix-style expression add a seconds field and a ?, e.g. "0 0 5 * * ?" for 05:00 every day`
		}
		return fmt.Errorf("%s", msg)
	}
	for i, p := range parts {
		if err := checkCronField(cronFields[i], i, p); err != nil {
			return err
		}
	}
	domQ, dowQ := parts[fDOM] == "?", parts[fDOW] == "?"
	switch {
	case domQ && dowQ:
		return fmt.Errorf("day-of-month and day-of-week are both ?; set one of them (use * for every day)")
	case !domQ && !dowQ:
		return fmt.Errorf("day-of-month (%s) and day-of-week (%s) are both set; Quartz needs ? in one of them, e.g. %q", parts[fDOM], parts[fDOW], withQ(parts))
	}
	return nil
}

// withQ suggests the expression with ? for whichever day field is *.
func withQ(parts []string) string {
	p := append([]string(nil), parts...)
	if p[fDOW] == "*" {
		p[fDOW] = "?"
	} else {
		p[fDOM] = "?"
	}
	return strings.Join(p, " ")
}

func checkCronField(f cronField, idx int, s string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s field %q: %s", f.name, s, fmt.Sprintf(format, args...))
	}
	if s == "?" {
		if idx != fDOM && idx != fDOW {
			return bad("? is allowed only in day-of-month and day-of-week")
		}
		return nil
	}
	list := strings.IndexByte(s, ',') >= 0
	for it := range strings.SplitSeq(s, ",") {
		if it == "" {
			return bad("empty list item")
		}
		// Special forms that stand alone.
		switch idx {
		case fDOM:
			if ok, err := domSpecial(it); ok || err != nil {
				if err != nil {
					return bad("%v", err)
				}
				if list {
					return bad("%s cannot be combined with other values", it)
				}
				continue
			}
		case fDOW:
			if ok, err := dowSpecial(f, it); ok || err != nil {
				if err != nil {
					return bad("%v", err)
				}
				if list {
					return bad("%s cannot be combined with other values", it)
				}
				continue
			}
		}
		if err := checkCronItem(f, idx, it); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

func checkCronItem(f cronField, idx int, it string) error {
	base, step, hasStep := strings.Cut(it, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n <= 0 {
			return fmt.Errorf("step %q must be a positive number", step)
		}
		// Quartz refuses increments above the field's largest value.
		if idx != 6 && n > f.max {
			return fmt.Errorf("step %d is larger than %d", n, f.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	a, err := cronValue(f, lo)
	if err != nil {
		return err
	}
	if isRange {
		b, err := cronValue(f, hi)
		if err != nil {
			return err
		}
		// Quartz accepts ranges that wrap (FRI-MON, 22-2), except in the
		// year, which does not wrap.
		if idx == 6 && b < a {
			return fmt.Errorf("range %s is backwards", base)
		}
	}
	return nil
}

func cronValue(f cronField, s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing value")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < f.min || n > f.max {
			return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	if f.names != nil {
		return 0, fmt.Errorf("%q is not a number %d-%d or one of %s", s, f.min, f.max, strings.Join(f.names, ", "))
	}
	return 0, fmt.Errorf("%q is not a number %d-%d", s, f.min, f.max)
}

// domSpecial checks the day-of-month forms L, L-n, LW and nW. ok reports
// whether it was one of them.
func domSpecial(it string) (ok bool, err error) {
	u := strings.ToUpper(it)
	switch {
	case u == "L" || u == "LW":
		return true, nil
	case strings.HasPrefix(u, "L-"):
		n, e := strconv.Atoi(u[2:])
		if e != nil || n < 1 || n > 30 {
			return true, fmt.Errorf("L-n needs n in 1-30")
		}
		return true, nil
	case strings.HasSuffix(u, "W"):
		n, e := strconv.Atoi(u[:len(u)-1])
		if e != nil || n < 1 || n > 31 {
			return true, fmt.Errorf("nW needs a day 1-31, e.g. 15W")
		}
		return true, nil
	case strings.ContainsAny(u, "LW#"):
		return true, fmt.Errorf("L and W are allowed only as L, L-n, LW or nW")
	}
	return false, nil
}

// dowSpecial checks the day-of-week forms L, nL and n#k.
func dowSpecial(f cronField, it string) (ok bool, err error) {
	u := strings.ToUpper(it)
	switch {
	case u == "L":
		return true, nil
	case strings.Contains(u, "#"):
		d, k, _ := strings.Cut(u, "#")
		if _, e := cronValue(f, d); e != nil {
			return true, e
		}
		n, e := strconv.Atoi(k)
		if e != nil || n < 1 || n > 5 {
			return true, fmt.Errorf("n#k needs k in 1-5 (the k-th such weekday of the month)")
		}
		return true, nil
	case len(u) > 1 && strings.HasSuffix(u, "L"):
		if _, e := cronValue(f, u[:len(u)-1]); e != nil {
			return true, e
		}
		return true, nil
	case strings.ContainsAny(u, "#") || u == "W":
		return true, fmt.Errorf("unexpected %s", it)
	}
	return false, nil
}
