package report_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties/report"
)

var update = flag.Bool("update", false, "rewrite docs/timeline-example.svg")

const examplePath = "../../docs/timeline-example.svg"

// TestTimelineExample keeps docs/timeline-example.svg, the timeline of a
// hand-built lock-across-write freeze (freeze), what WriteTimeline draws
// today. Run with -update after changing the drawing.
func TestTimelineExample(t *testing.T) {
	var b bytes.Buffer
	if err := freeze().WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(examplePath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s is out of date: go test ./properties/report/ -run TestTimelineExample -update", filepath.Base(examplePath))
	}
}

func TestTimelineDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	_ = freeze().WriteTimeline(&a)
	_ = freeze().WriteTimeline(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two drawings of the same report differ")
	}
}

// svgSummary is what a test can see of a timeline: its lanes (by id, with
// their labels) and the violation line's x.
type svgSummary struct {
	lanes      map[string]string // id → label
	violations []float64         // x of each line of class "violation"
	width      float64
}

func parseSVG(t *testing.T, data []byte) svgSummary {
	t.Helper()
	s := svgSummary{lanes: map[string]string{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	lane, inLabel := "", false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch {
			case el.Name.Local == "svg":
				s.width, _ = strconv.ParseFloat(attr("width"), 64)
			case el.Name.Local == "g" && attr("class") == "lane":
				lane = attr("id")
				s.lanes[lane] = ""
			case el.Name.Local == "text" && lane != "" && s.lanes[lane] == "":
				inLabel = true
			case el.Name.Local == "line" && attr("class") == "violation":
				x, err := strconv.ParseFloat(attr("x1"), 64)
				if err != nil {
					t.Fatalf("violation line x1=%q", attr("x1"))
				}
				s.violations = append(s.violations, x)
			}
		case xml.CharData:
			if inLabel {
				s.lanes[lane] = string(el)
				inLabel = false
			}
		case xml.EndElement:
			if el.Name.Local == "g" {
				lane = ""
			}
		}
	}
	return s
}

func TestTimelineLanesAndViolation(t *testing.T) {
	r := freeze()
	var b bytes.Buffer
	if err := r.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, b.Bytes())
	if s.width < 700 || s.width > 900 {
		t.Errorf("width %v, want about 800 (a PR comment)", s.width)
	}
	if len(s.lanes) != len(r.Clients) {
		t.Errorf("%d lanes, want one per client (%d): %v", len(s.lanes), len(r.Clients), s.lanes)
	}
	for _, want := range map[string]string{"lane-c3": "c3 stalled · subscriber", "lane-c0": "c0 healthy · voter"} {
		found := false
		for _, label := range s.lanes {
			found = found || label == want
		}
		if !found {
			t.Errorf("no lane labelled %q: %v", want, s.lanes)
		}
	}
	if len(s.violations) != 1 {
		t.Fatalf("%d violation lines, want 1", len(s.violations))
	}
	// The violation at 2350 ms sits right of a stall at 300 ms.
	r.ViolationAt = r.ViolationAt / 10
	var early bytes.Buffer
	_ = r.WriteTimeline(&early)
	if e := parseSVG(t, early.Bytes()); e.violations[0] >= s.violations[0] {
		t.Errorf("violation at %v drawn at x=%v, not left of one at %v (x=%v)", r.ViolationAt, e.violations[0], r.ViolationAt*10, s.violations[0])
	}
}

// Text from the server under test goes into the SVG: it must be escaped.
func TestTimelineEscapes(t *testing.T) {
	r := freeze()
	r.Violation = `got "<script>alert(1)</script>" & ` + "\x00\x01 bytes"
	r.Clients[0].Marks[0].Text = "<b>&"
	r.Clients[1].Role = `"quoted" <role>`
	var b bytes.Buffer
	if err := r.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Error("the violation's text was not escaped")
	}
	parseSVG(t, b.Bytes())
}

func TestTimelineEmptyReport(t *testing.T) {
	var b bytes.Buffer
	if err := (&report.Report{}).WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, b.Bytes())
	if len(s.lanes) != 0 || len(s.violations) != 1 {
		t.Errorf("empty report: %d lanes, %d violation lines", len(s.lanes), len(s.violations))
	}
}

// A big scenario still draws a well-formed picture with a lane per client.
func TestTimelineLarge(t *testing.T) {
	r := &report.Report{Property: "progress", Violation: strings.Repeat("long violation text ", 60), ViolationAt: 5 * time.Second}
	for i := range 40 {
		c := report.Client{ID: i, Kind: "healthy", Role: "voter"}
		for j := range 300 {
			c.Marks = append(c.Marks, report.Mark{At: time.Duration(j) * 10 * time.Millisecond, Kind: []string{report.MarkRequest, report.MarkReply, report.MarkPush, report.MarkError}[j%4]})
		}
		c.Spans = []report.Span{{From: time.Second, To: report.Unlifted, Kind: "stall"}, {From: 2 * time.Second, To: time.Second, Kind: "backwards"}}
		r.Clients = append(r.Clients, c)
		r.Steps = append(r.Steps, report.Step{At: time.Duration(i) * 100 * time.Millisecond, Text: "step"})
	}
	var b bytes.Buffer
	if err := r.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	if s := parseSVG(t, b.Bytes()); len(s.lanes) != 40 || len(s.violations) != 1 {
		t.Errorf("%d lanes, %d violation lines", len(s.lanes), len(s.violations))
	}
}
