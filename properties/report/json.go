package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The JSON form of a Report (docs/report.schema.json): snake_case names,
// durations as milliseconds in fields named *_ms, the seed as a decimal
// string (a uint64 does not survive a JavaScript number).

type jsonReport struct {
	Version          int          `json:"version"`
	Property         string       `json:"property"`
	Violation        string       `json:"violation"`
	Protocol         string       `json:"protocol"`
	Transport        string       `json:"transport"`
	Seed             string       `json:"seed"`
	Replay           string       `json:"replay"`
	BoundMS          float64      `json:"bound_ms"`
	FirstViolationMS float64      `json:"first_violation_ms"`
	ViolationAtMS    float64      `json:"violation_at_ms"`
	Steps            []jsonStep   `json:"steps"`
	Clients          []jsonClient `json:"clients"`
	Goroutines       string       `json:"goroutines"`
	Stacks           []jsonStack  `json:"stacks"`
}

type jsonStack struct {
	Count  int         `json:"count"`
	State  string      `json:"state"`
	Frames []jsonFrame `json:"frames"`
}

type jsonFrame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type jsonStep struct {
	AtMS float64 `json:"at_ms"`
	Text string  `json:"text"`
}

type jsonClient struct {
	ID         int         `json:"id"`
	Kind       string      `json:"kind"`
	Role       string      `json:"role"`
	WroteBytes int64       `json:"wrote_bytes"`
	ReadBytes  int64       `json:"read_bytes"`
	Last       []string    `json:"last"`
	Events     []jsonEvent `json:"events"`
	Marks      []jsonMark  `json:"marks"`
	Spans      []jsonSpan  `json:"spans"`
}

type jsonEvent struct {
	AtMS float64 `json:"at_ms"`
	Kind string  `json:"kind"`
	Text string  `json:"text"`
}

type jsonMark struct {
	AtMS  float64 `json:"at_ms"`
	Kind  string  `json:"kind"`
	Text  string  `json:"text"`
	Count int     `json:"count,omitempty"`
}

type jsonSpan struct {
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms"`
	Kind   string  `json:"kind"`
	Text   string  `json:"text"`
}

// ms converts d to milliseconds; nanosecond precision survives the round
// trip for any duration under about 52 days.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fromMS(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }

// MarshalJSON encodes r in the documented schema. Nil slices are written
// as empty arrays, so every field is always present.
func (r Report) MarshalJSON() ([]byte, error) {
	v := r.Version
	if v == 0 {
		v = Version
	}
	j := jsonReport{
		Version: v, Property: r.Property, Violation: r.Violation, Protocol: r.Protocol,
		Transport: r.Transport, Seed: strconv.FormatUint(r.Seed, 10), Replay: r.Replay,
		BoundMS: ms(r.Bound), FirstViolationMS: ms(r.FirstViolation), ViolationAtMS: ms(r.ViolationAt),
		Steps: []jsonStep{}, Clients: []jsonClient{}, Goroutines: r.Goroutines, Stacks: []jsonStack{},
	}
	for _, st := range r.Stacks {
		js := jsonStack{Count: st.Count, State: st.State, Frames: []jsonFrame{}}
		for _, f := range st.Frames {
			js.Frames = append(js.Frames, jsonFrame(f))
		}
		j.Stacks = append(j.Stacks, js)
	}
	for _, s := range r.Steps {
		j.Steps = append(j.Steps, jsonStep{ms(s.At), s.Text})
	}
	for _, c := range r.Clients {
		jc := jsonClient{
			ID: c.ID, Kind: c.Kind, Role: c.Role, WroteBytes: c.Wrote, ReadBytes: c.Read,
			Last: append([]string{}, c.Last...), Events: []jsonEvent{}, Marks: []jsonMark{}, Spans: []jsonSpan{},
		}
		for _, e := range c.Events {
			jc.Events = append(jc.Events, jsonEvent{ms(e.At), e.Kind, e.Text})
		}
		for _, m := range c.Marks {
			jc.Marks = append(jc.Marks, jsonMark{ms(m.At), m.Kind, m.Text, m.Count})
		}
		for _, s := range c.Spans {
			to := -1.0
			if s.To >= 0 {
				to = ms(s.To)
			}
			jc.Spans = append(jc.Spans, jsonSpan{ms(s.From), to, s.Kind, s.Text})
		}
		j.Clients = append(j.Clients, jc)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the documented schema. It refuses a version newer
// than this package's, and a seed that is not a decimal uint64.
func (r *Report) UnmarshalJSON(data []byte) error {
	var j jsonReport
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Version < 1 || j.Version > Version {
		return fmt.Errorf("report: version %d, want 1..%d", j.Version, Version)
	}
	var seed uint64
	if j.Seed != "" {
		var err error
		if seed, err = strconv.ParseUint(j.Seed, 10, 64); err != nil {
			return fmt.Errorf("report: seed %q is not a decimal uint64", j.Seed)
		}
	}
	*r = Report{
		Version: j.Version, Property: j.Property, Violation: j.Violation, Protocol: j.Protocol,
		Transport: j.Transport, Seed: seed, Replay: j.Replay,
		Bound: fromMS(j.BoundMS), FirstViolation: fromMS(j.FirstViolationMS), ViolationAt: fromMS(j.ViolationAtMS),
		Goroutines: j.Goroutines,
	}
	for _, js := range j.Stacks {
		st := Stack{Count: js.Count, State: js.State}
		for _, f := range js.Frames {
			st.Frames = append(st.Frames, Frame(f))
		}
		r.Stacks = append(r.Stacks, st)
	}
	for _, s := range j.Steps {
		r.Steps = append(r.Steps, Step{fromMS(s.AtMS), s.Text})
	}
	for _, jc := range j.Clients {
		c := Client{ID: jc.ID, Kind: jc.Kind, Role: jc.Role, Wrote: jc.WroteBytes, Read: jc.ReadBytes}
		if len(jc.Last) > 0 {
			c.Last = jc.Last
		}
		for _, e := range jc.Events {
			c.Events = append(c.Events, Event{fromMS(e.AtMS), e.Kind, e.Text})
		}
		for _, m := range jc.Marks {
			c.Marks = append(c.Marks, Mark{fromMS(m.AtMS), m.Kind, m.Text, m.Count})
		}
		for _, s := range jc.Spans {
			to := Unlifted
			if s.ToMS >= 0 {
				to = fromMS(s.ToMS)
			}
			c.Spans = append(c.Spans, Span{fromMS(s.FromMS), to, s.Kind, s.Text})
		}
		r.Clients = append(r.Clients, c)
	}
	return nil
}
