package main

import (
	"fmt"
	"strconv"
)

// decimalInt is an int flag read in base 10 only, within [min, max] unless
// both are 0 (then the range is checked later, e.g. against the profile).
// pflag's IntVar parses like Go source (base 0): "--server-port 0x10" was
// port 16 and "--domain-id 010" domain 8, which nobody who types a port or
// a domain id means.
type decimalInt struct {
	p        *int
	min, max int
	given    *bool // set when the flag is given, if not nil
}

func (d decimalInt) String() string { return strconv.Itoa(*d.p) }
func (d decimalInt) Type() string   { return "int" }

func (d decimalInt) Set(s string) error {
	digits := s
	if len(s) > 1 && s[0] == '-' {
		digits = s[1:]
	}
	n, err := strconv.Atoi(s)
	ranged := d.min != 0 || d.max != 0
	if digits == "" || trimDigits(digits) != "" || err != nil || ranged && (n < d.min || n > d.max) {
		// pflag puts the flag and the value in front.
		if !ranged {
			return fmt.Errorf("want a decimal whole number")
		}
		return fmt.Errorf("want a decimal whole number from %d to %d", d.min, d.max)
	}
	*d.p = n
	if d.given != nil {
		*d.given = true
	}
	return nil
}

func trimDigits(s string) string {
	for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		s = s[1:]
	}
	return s
}
