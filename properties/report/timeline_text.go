package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Text for the timeline: escaping, wrapping and the formats of its numbers.

func tooltip(title string) string {
	if title == "" {
		return ""
	}
	return "<title>" + esc(title) + "</title>"
}

// esc escapes text for SVG.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\n', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 || r == 0xFFFD {
				b.WriteRune('?') // not allowed in XML 1.0
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wrap splits s into lines of at most n characters, at spaces where it can.
func wrap(s string, n int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := []rune{}
		for _, word := range strings.Fields(para) {
			w := []rune(word)
			for len(w) > n { // a word longer than a line
				if len(line) > 0 {
					lines = append(lines, string(line))
					line = line[:0]
				}
				lines = append(lines, string(w[:n]))
				w = w[n:]
			}
			switch {
			case len(line) == 0:
				line = append(line, w...)
			case len(line)+1+len(w) <= n:
				line = append(append(line, ' '), w...)
			default:
				lines = append(lines, string(line))
				line = append(line[:0:0], w...)
			}
		}
		if len(line) > 0 {
			lines = append(lines, string(line))
		}
	}
	return lines
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// fmtMS formats d in milliseconds, without needless decimals.
func fmtMS(d time.Duration) string {
	return fmtG(math.Round(ms(d)*10) / 10)
}

func fmtG(v float64) string { return fmt.Sprintf("%g", v) }

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
