package schema

import (
	"strings"
	"testing"
)

func TestQuartzValid(t *testing.T) {
	for _, expr := range []string{
		"0 0 12 * * ?",
		"0 15 10 ? * *",
		"0 15 10 * * ? 2030",
		"0 0/5 14,18 * * ?",
		"0 0-5 14 * * ?",
		"0 10,44 14 ? 3 WED",
		"0 15 10 ? * MON-FRI",
		"0 15 10 15 * ?",
		"0 15 10 L * ?",
		"0 15 10 L-2 * ?",
		"0 15 10 ? * 6L",
		"0 15 10 ? * FRIL",
		"0 15 10 ? * 6#3",
		"0 15 10 ? * fri#3",
		"0 0 12 1/5 * ?",
		"0 11 11 11 11 ?",
		"0 0 12 LW * ?",
		"0 0 12 15W * ?",
		"0 0 22-2 * * ?", // wraps past midnight
		"0 0 0 ? JAN-MAR,OCT SAT,SUN",
		"*/30 * * * * ?",
		"  0  30  2  *  *  ?  ",
		"0 0 12 ? * L",
		"0 0 12 * * ? 2025-2030/2",
		"59 59 23 31 12 ? 2099",
	} {
		if err := checkQuartz(expr); err != nil {
			t.Errorf("checkQuartz(%q) = %v, want valid", expr, err)
		}
	}
}

func TestQuartzInvalid(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"", "has 0 fields"},
		{"0 5 * * *", `has 5 fields; a Quartz cron expression has 6 or 7`},
		{"0 5 * * *", `e.g. "0 0 5 * * ?"`},
		{"0 0 0 * * ? 2030 x", "has 8 fields"},
		{"60 0 12 * * ?", `seconds field "60": 60 is out of range 0-59`},
		{"0 60 12 * * ?", `minutes field "60": 60 is out of range 0-59`},
		{"0 0 24 * * ?", `hours field "24": 24 is out of range 0-23`},
		{"0 0 12 0 * ?", `day-of-month field "0": 0 is out of range 1-31`},
		{"0 0 12 32 * ?", `day-of-month field "32"`},
		{"0 0 12 ? 13 *", `month field "13": 13 is out of range 1-12`},
		{"0 0 12 ? JANUARY *", `month field "JANUARY": "JANUARY" is not a number 1-12 or one of JAN, FEB`},
		{"0 0 12 ? * 8", `day-of-week field "8": 8 is out of range 1-7`},
		{"0 0 12 ? * FUN", `"FUN" is not a number 1-7 or one of SUN, MON`},
		{"0 0 12 * * *", `day-of-month (*) and day-of-week (*) are both set; Quartz needs ? in one of them, e.g. "0 0 12 * * ?"`},
		{"0 0 12 ? * ?", "day-of-month and day-of-week are both ?"},
		{"0 0 12 1 * MON", `e.g. "0 0 12 ? * MON"`},
		{"? 0 12 * * ?", "? is allowed only in day-of-month and day-of-week"},
		{"0 0/0 12 * * ?", `step "0" must be a positive number`},
		{"0 0/60 12 * * ?", "step 60 is larger than 59"},
		{"0 0/x 12 * * ?", `step "x" must be a positive number`},
		{"0 0 12 L-31 * ?", "L-n needs n in 1-30"},
		{"0 0 12 32W * ?", "nW needs a day 1-31"},
		{"0 0 12 L,5 * ?", "L cannot be combined with other values"},
		{"0 0 12 ? * 6#6", "n#k needs k in 1-5"},
		{"0 0 12 ? * 9#2", "9 is out of range 1-7"},
		{"0 0 12 ? * 9L", "9 is out of range 1-7"},
		{"0 0 12 1,,2 * ?", "empty list item"},
		{"0 0 12 1- * ?", "missing value"},
		{"0 0 12 * * ? 1969", "1969 is out of range 1970-2099"},
		{"0 0 12 * * ? 2030-2025", "range 2030-2025 is backwards"},
		{"0 0 12 5L * ?", "L and W are allowed only as L, L-n, LW or nW"},
	} {
		err := checkQuartz(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkQuartz(%q) = %v, want it to contain %q", tc.expr, err, tc.want)
		}
	}
}
