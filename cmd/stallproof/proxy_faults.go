package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stallproof/stallproof/faultnet"
)

// faultSpec is a fault as the proxy's flags and control API give it. In
// JSON it is typed: {"kind": "latency", "delay": "20ms", "jitter": "5ms"},
// {"kind": "after_written", "bytes": 65536, "then": {"kind": "reset"}}. On
// the command line it is the call that prints it: Latency(20ms, 5ms),
// AfterWritten(65536, Reset()).
type faultSpec struct {
	Kind        string     `json:"kind"`
	Bytes       int64      `json:"bytes,omitempty"`
	Every       duration   `json:"every,omitempty"`
	BytesPerSec int64      `json:"bytes_per_sec,omitempty"`
	Delay       duration   `json:"delay,omitempty"`
	Jitter      duration   `json:"jitter,omitempty"`
	After       duration   `json:"after,omitempty"`
	Then        *faultSpec `json:"then,omitempty"`
}

// duration is a time.Duration that JSON spells as Go does: "250ms".
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"250ms\", not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q: want a Go duration such as \"250ms\" or \"1.5s\"", s)
	}
	*d = duration(v)
	return nil
}

// A param is one argument of a fault, in the order of the call.
type param string

const (
	pBytes  param = "bytes"
	pEvery  param = "every"
	pBPS    param = "bytes_per_sec"
	pDelay  param = "delay"
	pJitter param = "jitter"
	pAfter  param = "after"
	pThen   param = "then"
)

// faultKind is one fault the proxy can inject.
type faultKind struct {
	kind   string  // JSON name
	call   string  // Go name, as on the command line
	params []param // in the order of the call
	about  string
	build  func(s *faultSpec, then faultnet.Fault) faultnet.Fault
}

var faultKinds = []faultKind{
	{"stall_reads", "StallReads", nil, "the leg stops reading: its peer's writes block once the buffers fill",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.StallReads() }},
	{"block_writes", "BlockWrites", nil, "the leg's writes block: nothing is sent to its peer",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.BlockWrites() }},
	{"trickle_reads", "TrickleReads", []param{pBytes, pEvery}, "reads at most bytes per every",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault {
			return faultnet.TrickleReads(int(s.Bytes), time.Duration(s.Every))
		}},
	{"trickle_writes", "TrickleWrites", []param{pBytes, pEvery}, "sends at most bytes per every",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault {
			return faultnet.TrickleWrites(int(s.Bytes), time.Duration(s.Every))
		}},
	{"bandwidth", "Bandwidth", []param{pBPS}, "sends at most bytes_per_sec",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault { return faultnet.Bandwidth(s.BytesPerSec) }},
	{"latency", "Latency", []param{pDelay, pJitter}, "delays what the leg sends by delay ± jitter",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault {
			return faultnet.Latency(time.Duration(s.Delay), time.Duration(s.Jitter))
		}},
	{"short_reads", "ShortReads", []param{pBytes}, "each read returns at most bytes",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault { return faultnet.ShortReads(int(s.Bytes)) }},
	{"short_writes", "ShortWrites", []param{pBytes}, "sends in pieces of at most bytes",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault { return faultnet.ShortWrites(int(s.Bytes)) }},
	{"random_short_reads", "RandomShortReads", []param{pBytes}, "read sizes drawn from 1..bytes (seeded)",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault { return faultnet.RandomShortReads(int(s.Bytes)) }},
	{"random_short_writes", "RandomShortWrites", []param{pBytes}, "piece sizes drawn from 1..bytes (seeded)",
		func(s *faultSpec, _ faultnet.Fault) faultnet.Fault { return faultnet.RandomShortWrites(int(s.Bytes)) }},
	{"close_write", "HalfCloseWrite", nil, "half-closes the leg (FIN)",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.HalfCloseWrite() }},
	{"close_read", "HalfCloseRead", nil, "shuts the leg's reading side",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.HalfCloseRead() }},
	{"close", "Hangup", nil, "closes the leg",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.Hangup() }},
	{"reset", "Reset", nil, "resets the leg (RST), and so the connection on both sides",
		func(*faultSpec, faultnet.Fault) faultnet.Fault { return faultnet.Reset() }},
	{"after_read", "AfterRead", []param{pBytes, pThen}, "then, once the leg has read bytes more",
		func(s *faultSpec, then faultnet.Fault) faultnet.Fault { return faultnet.AfterRead(s.Bytes, then) }},
	{"after_written", "AfterWritten", []param{pBytes, pThen}, "then, once the leg has written bytes more",
		func(s *faultSpec, then faultnet.Fault) faultnet.Fault { return faultnet.AfterWritten(s.Bytes, then) }},
	{"after_time", "AfterTime", []param{pAfter, pThen}, "then, after the duration after",
		func(s *faultSpec, then faultnet.Fault) faultnet.Fault {
			return faultnet.AfterTime(time.Duration(s.After), then)
		}},
}

// oldCalls maps the names the half-close and close faults had until
// faultnet renamed them (so that they could not be taken for Conn's
// methods) to their names now: flags and control-API calls written with the
// old names keep working. JSON kinds did not change.
var oldCalls = map[string]string{"CloseWrite": "HalfCloseWrite", "CloseRead": "HalfCloseRead", "Close": "Hangup"}

func kindNames() string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = k.kind
	}
	return strings.Join(names, ", ")
}

// fault builds the fault s describes, or says what is wrong with it.
func (s *faultSpec) fault() (faultnet.Fault, error) {
	i := slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.kind == s.Kind })
	if i < 0 {
		if s.Kind == "" {
			return nil, fmt.Errorf("fault without a kind (known: %s)", kindNames())
		}
		return nil, fmt.Errorf("unknown fault kind %q (known: %s)", s.Kind, kindNames())
	}
	k := faultKinds[i]
	has := func(p param) bool { return slices.Contains(k.params, p) }
	set := map[param]bool{
		pBytes: s.Bytes != 0, pEvery: s.Every != 0, pBPS: s.BytesPerSec != 0, pDelay: s.Delay != 0,
		pJitter: s.Jitter != 0, pAfter: s.After != 0, pThen: s.Then != nil,
	}
	for p, ok := range set {
		if ok && !has(p) {
			return nil, fmt.Errorf("%s takes no %q", s.Kind, p)
		}
	}
	for _, p := range k.params {
		switch {
		case p == pJitter: // optional
			if s.Jitter < 0 {
				return nil, fmt.Errorf("%s: jitter must not be negative", s.Kind)
			}
		case p == pThen:
			if s.Then == nil {
				return nil, fmt.Errorf("%s needs \"then\", the fault it schedules", s.Kind)
			}
		case p == pBytes && strings.HasPrefix(s.Kind, "after_"):
			if s.Bytes < 0 {
				return nil, fmt.Errorf("%s: bytes must not be negative", s.Kind)
			}
		case !set[p] || s.negative(p):
			return nil, fmt.Errorf("%s needs %q greater than 0", s.Kind, p)
		}
	}
	var then faultnet.Fault
	if s.Then != nil {
		var err error
		if then, err = s.Then.fault(); err != nil {
			return nil, fmt.Errorf("%s: then: %w", s.Kind, err)
		}
	}
	return k.build(s, then), nil
}

func (s *faultSpec) negative(p param) bool {
	switch p {
	case pBytes:
		return s.Bytes < 0
	case pEvery:
		return s.Every < 0
	case pBPS:
		return s.BytesPerSec < 0
	case pDelay:
		return s.Delay < 0
	case pAfter:
		return s.After < 0
	}
	return false
}

// decodeFault reads a JSON fault, rejecting unknown fields.
func decodeFault(b []byte) (*faultSpec, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s faultSpec
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// parseFaultCall parses a fault written as the call that prints it:
// "Latency(20ms, 5ms)", "AfterWritten(65536, Reset())". The old names of
// renamed faults (oldCalls) are accepted too.
func parseFaultCall(src string) (*faultSpec, error) {
	p := &callParser{src: src}
	s, err := p.call()
	if err == nil {
		p.space()
		if p.pos < len(p.src) {
			err = fmt.Errorf("unexpected %q after the fault", p.src[p.pos:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fault %q: %w", src, err)
	}
	return s, nil
}

type callParser struct {
	src string
	pos int
}

func (p *callParser) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

// token returns the next run of letters, digits, dots, signs and µ.
func (p *callParser) token() string {
	p.space()
	start := p.pos
	for p.pos < len(p.src) {
		r := rune(p.src[p.pos])
		if r == '(' || r == ')' || r == ',' || r == ' ' {
			break
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *callParser) expect(c byte) error {
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != c {
		return fmt.Errorf("want %q at offset %d", c, p.pos)
	}
	p.pos++
	return nil
}

func (p *callParser) call() (*faultSpec, error) {
	name := p.token()
	if name == "" || !unicode.IsUpper(rune(name[0])) {
		return nil, fmt.Errorf("want a fault such as StallReads() or Latency(20ms, 5ms), got %q", name)
	}
	if now, ok := oldCalls[name]; ok {
		name = now
	}
	i := slices.IndexFunc(faultKinds, func(k faultKind) bool { return k.call == name })
	if i < 0 {
		calls := make([]string, len(faultKinds))
		for j, k := range faultKinds {
			calls[j] = k.call
		}
		return nil, fmt.Errorf("unknown fault %s (known: %s)", name, strings.Join(calls, ", "))
	}
	k := faultKinds[i]
	if err := p.expect('('); err != nil {
		return nil, err
	}
	s := &faultSpec{Kind: k.kind}
	for j, prm := range k.params {
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ')' && prm == pJitter {
			break // Latency(d): no jitter
		}
		if j > 0 {
			if err := p.expect(','); err != nil {
				return nil, fmt.Errorf("%s wants %d arguments (%s): %w", k.call, len(k.params), joinParams(k.params), err)
			}
		}
		if err := p.arg(s, prm); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", k.call, prm, err)
		}
	}
	if err := p.expect(')'); err != nil {
		return nil, fmt.Errorf("%s wants %d arguments (%s): %w", k.call, len(k.params), joinParams(k.params), err)
	}
	return s, nil
}

func (p *callParser) arg(s *faultSpec, prm param) error {
	if prm == pThen {
		then, err := p.call()
		s.Then = then
		return err
	}
	tok := p.token()
	switch prm {
	case pBytes, pBPS:
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number of bytes, got %q", tok)
		}
		if prm == pBytes {
			s.Bytes = n
		} else {
			s.BytesPerSec = n
		}
		return nil
	}
	d, err := time.ParseDuration(tok)
	if err != nil {
		return fmt.Errorf("bad duration %q: want a Go duration such as 250ms", tok)
	}
	switch prm {
	case pEvery:
		s.Every = duration(d)
	case pDelay:
		s.Delay = duration(d)
	case pJitter:
		s.Jitter = duration(d)
	case pAfter:
		s.After = duration(d)
	}
	return nil
}

func joinParams(ps []param) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return strings.Join(out, ", ")
}

// parseLeg parses "client" or "upstream".
func parseLeg(s string) (faultnet.Leg, error) {
	switch s {
	case "client":
		return faultnet.ClientLeg, nil
	case "upstream":
		return faultnet.UpstreamLeg, nil
	case "":
		return 0, errors.New("no leg: want \"client\" or \"upstream\"")
	}
	return 0, fmt.Errorf("unknown leg %q: want \"client\" or \"upstream\"", s)
}

// legFault is a -fault flag: LEG:Fault(...).
type legFault struct {
	leg   faultnet.Leg
	fault faultnet.Fault
}

// faultFlags collects repeated -fault flags.
type faultFlags []legFault

func (f *faultFlags) String() string {
	var parts []string
	for _, lf := range *f {
		parts = append(parts, fmt.Sprintf("%v:%v", lf.leg, lf.fault))
	}
	return strings.Join(parts, " ")
}

func (f *faultFlags) Set(v string) error {
	legName, call, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("%q: want LEG:FAULT, such as upstream:StallReads()", v)
	}
	leg, err := parseLeg(legName)
	if err != nil {
		return err
	}
	s, err := parseFaultCall(call)
	if err != nil {
		return err
	}
	fault, err := s.fault()
	if err != nil {
		return err
	}
	*f = append(*f, legFault{leg, fault})
	return nil
}
