package emulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// checkQuartz checks the syntax of a Quartz cron expression, which the
// service validates on write (§3.2.1 [obs] MicrosoftDocs/azure-docs#44131:
// "0 30 2,7,11,15 * * *" is refused). Syntax per the Quartz CronTrigger
// tutorial: seconds minutes hours day-of-month month day-of-week [year],
// with exactly one of day-of-month and day-of-week being '?'.
func checkQuartz(expr string) error {
	f := strings.Fields(expr)
	if len(f) != 6 && len(f) != 7 {
		return fmt.Errorf("expected 6 or 7 fields, got %d", len(f))
	}
	specs := []struct {
		name     string
		lo, hi   int
		names    []string
		question bool
	}{
		{"seconds", 0, 59, nil, false},
		{"minutes", 0, 59, nil, false},
		{"hours", 0, 23, nil, false},
		{"day-of-month", 1, 31, nil, true},
		{"month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}, false},
		{"day-of-week", 1, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, true},
		{"year", 1970, 2099, nil, false},
	}
	for i, field := range f {
		sp := specs[i]
		if field == "?" {
			if !sp.question {
				return fmt.Errorf("'?' is not allowed in the %s field", sp.name)
			}
			continue
		}
		var err error
		switch i {
		case 3:
			err = checkDayOfMonth(field)
		case 5:
			err = checkDayOfWeek(field, sp.names)
		default:
			err = checkCronField(field, sp.lo, sp.hi, sp.names)
		}
		if err != nil {
			return fmt.Errorf("%s field %q: %v", sp.name, field, err)
		}
	}
	if (f[3] == "?") == (f[5] == "?") {
		return errors.New("exactly one of day-of-month and day-of-week must be '?'")
	}
	return nil
}

// checkCronField checks a comma-separated list of '*', values and ranges,
// each optionally followed by /step. Ranges may wrap (FRI-MON).
func checkCronField(field string, lo, hi int, names []string) error {
	for _, item := range strings.Split(field, ",") {
		base, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 || n > hi {
				return fmt.Errorf("bad increment %q", step)
			}
		}
		if base == "*" {
			continue
		}
		from, to, isRange := strings.Cut(base, "-")
		if _, err := cronValue(from, lo, hi, names); err != nil {
			return err
		}
		if isRange {
			if _, err := cronValue(to, lo, hi, names); err != nil {
				return err
			}
		}
	}
	return nil
}

func cronValue(s string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return lo + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%d is out of range %d-%d", v, lo, hi)
	}
	return v, nil
}

// checkDayOfMonth also accepts L, L-n, LW and nW.
func checkDayOfMonth(field string) error {
	switch {
	case field == "L" || field == "LW":
		return nil
	case strings.HasPrefix(field, "L-"):
		n, err := strconv.Atoi(field[2:])
		if err != nil || n < 0 || n > 30 {
			return fmt.Errorf("bad offset %q", field[2:])
		}
		return nil
	case strings.HasSuffix(field, "W"):
		_, err := cronValue(strings.TrimSuffix(field, "W"), 1, 31, nil)
		return err
	}
	return checkCronField(field, 1, 31, nil)
}

// checkDayOfWeek also accepts L, nL and n#k.
func checkDayOfWeek(field string, names []string) error {
	switch {
	case field == "L":
		return nil
	case strings.Contains(field, "#"):
		d, k, _ := strings.Cut(field, "#")
		if _, err := cronValue(d, 1, 7, names); err != nil {
			return err
		}
		if n, err := strconv.Atoi(k); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("bad occurrence %q", k)
		}
		return nil
	case strings.HasSuffix(field, "L"):
		_, err := cronValue(strings.TrimSuffix(field, "L"), 1, 7, names)
		return err
	}
	return checkCronField(field, 1, 7, names)
}
