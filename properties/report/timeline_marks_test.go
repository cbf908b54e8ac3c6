package report_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties/report"
)

// svgElement is one element of a drawn timeline, with the lane it is in.
type svgElement struct {
	name, lane string
	attr       map[string]string
	text       string
}

func elements(t *testing.T, r *report.Report) []svgElement {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteTimeline(&b); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	var out []svgElement
	var stack []int // index in out of each open element
	lane := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			e := svgElement{name: el.Name.Local, attr: map[string]string{}}
			for _, a := range el.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			if e.name == "g" && e.attr["class"] == "lane" {
				lane = e.attr["id"]
			}
			e.lane = lane
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.CharData:
			for _, i := range stack { // a tooltip's text is its mark's too
				if out[i].name != "svg" && out[i].name != "g" {
					out[i].text += string(el)
				}
			}
		case xml.EndElement:
			if el.Name.Local == "g" {
				lane = ""
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func find(es []svgElement, lane, class string) []svgElement {
	var out []svgElement
	for _, e := range es {
		if e.lane == lane && e.attr["class"] == class {
			out = append(out, e)
		}
	}
	return out
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return v
}

// The freeze: c0's vote sent at 350 ms is drawn as an open bar reaching
// the violation line; c1's burst of 6 as one answered bar; c3's full
// buffer and the blocked server as marks of their own.
func TestTimelineRequestsAndBlockedMarks(t *testing.T) {
	es := elements(t, freeze())
	var vx float64
	for _, e := range es {
		if e.attr["class"] == "violation" {
			vx = num(t, e.attr["x1"])
		}
	}
	open := find(es, "lane-c0", "unanswered")
	if len(open) != 1 {
		t.Fatalf("c0: %d open bars, want 1 (its vote at 350 ms)", len(open))
	}
	// "M x0 y H x1 ...": the bar runs to the violation.
	d := strings.Fields(strings.NewReplacer("M", " ", "H", " ", "v", " ").Replace(open[0].attr["d"]))
	if end := num(t, d[2]); end < vx-0.5 || end > vx+0.5 {
		t.Errorf("the open bar ends at x=%v, the violation is at x=%v", end, vx)
	}
	if !strings.Contains(open[0].text, "VOTE yes sent at 350 ms") {
		t.Errorf("open bar's tooltip %q", open[0].text)
	}
	labels := texts(es, "lane-c0")
	if !strings.Contains(labels, "unanswered: VOTE yes") {
		t.Errorf("c0's labels %q lack the unanswered request", labels)
	}
	if n := len(find(es, "lane-c0", "request")); n != 6 {
		t.Errorf("c0: %d answered bars, want 6 (each answered before the next is sent)", n)
	}
	burst := find(es, "lane-c1", "request")
	if len(burst) == 0 || !strings.Contains(burst[0].text, "6 requests sent from 40 ms, all answered by 46 ms") {
		t.Errorf("c1's burst: %+v", burst)
	}
	if !strings.Contains(texts(es, "lane-c1"), "6 requests") {
		t.Errorf("c1's burst is not labelled: %q", texts(es, "lane-c1"))
	}
	if len(find(es, "lane-c3", "buffer-full")) != 1 || len(find(es, "lane-c3", "server-blocked")) != 1 {
		t.Errorf("c3 lacks a buffer-full or a server-blocked mark")
	}
	for _, want := range []string{"buffer full (the server's Write)", "server blocked: 8192 bytes queued, window 0", "stall, never lifted →"} {
		if !strings.Contains(texts(es, "lane-c3"), want) {
			t.Errorf("c3's labels %q lack %q", texts(es, "lane-c3"), want)
		}
	}
}

// texts is every label drawn in a lane, one a line.
func texts(es []svgElement, lane string) string {
	var b strings.Builder
	for _, e := range es {
		if e.lane == lane && e.name == "text" {
			b.WriteString(e.text + "\n")
		}
	}
	return b.String()
}

// A burst partly answered: the answered part solid, the rest open, "147
// of 200 unanswered". Replies counted in one mark answer as many requests.
func TestTimelineBursts(t *testing.T) {
	ms := time.Millisecond
	r := &report.Report{Property: "progress", ViolationAt: 300 * ms, Clients: []report.Client{
		{ID: 0, Kind: "healthy", Marks: []report.Mark{{At: 40 * ms, Kind: report.MarkRequest, Text: "200 requests at once: VOTE red", Count: 200}}},
		{ID: 1, Kind: "healthy", Marks: []report.Mark{
			{At: 10 * ms, Kind: report.MarkRequest, Text: "250 requests at once", Count: 250},
			{At: 30 * ms, Kind: report.MarkRequest, Text: "250 requests at once", Count: 250},
			{At: 60 * ms, Kind: report.MarkReply, Text: "replies (counted)", Count: 500},
		}},
		{ID: 2, Kind: "stalled"},
	}}
	for i := range 53 {
		r.Clients[0].Marks = append(r.Clients[0].Marks, report.Mark{At: 41*ms + time.Duration(i)*ms/10, Kind: report.MarkReply, Text: "OK"})
	}
	es := elements(t, r)
	if open := find(es, "lane-c0", "unanswered"); len(open) != 1 || !strings.Contains(texts(es, "lane-c0"), "147 of 200 unanswered") {
		t.Errorf("c0: %d open bars, labels %q", len(open), texts(es, "lane-c0"))
	}
	if open := find(es, "lane-c1", "unanswered"); len(open) != 0 {
		t.Errorf("c1's 500 requests, answered by 500 counted replies, drawn as unanswered")
	}
	if bars := find(es, "lane-c1", "request"); len(bars) != 1 || !strings.Contains(texts(es, "lane-c1"), "500 requests") {
		t.Errorf("c1's overlapping bursts: %d bars, labels %q; want one bar of 500", len(bars), texts(es, "lane-c1"))
	}
	if !strings.Contains(texts(es, "lane-c2"), "no messages") {
		t.Errorf("c2's empty lane does not say so: %q", texts(es, "lane-c2"))
	}
}

// Any event kind is drawn and labelled; labels in a lane never overlap.
func TestTimelineLabelsDoNotOverlap(t *testing.T) {
	ms := time.Millisecond
	c := report.Client{ID: 0, Kind: "trickler"}
	for i := range 30 {
		kind := []string{"fire", "reset", "close-write", report.EventBufferFull, report.EventServerBlocked, "a-kind-from-later"}[i%6]
		c.Events = append(c.Events, report.Event{At: time.Duration(i) * 3 * ms, Kind: kind, Text: "ShortWrites(3)"})
	}
	c.Spans = []report.Span{{From: 0, To: 40 * ms, Kind: "short reads"}, {From: 2 * ms, To: 42 * ms, Kind: "short writes"}, {From: 50 * ms, To: report.Unlifted, Kind: "stall"}}
	other := report.Client{ID: 1, Kind: "healthy", Events: []report.Event{{At: 20 * ms, Kind: "a-kind-from-later", Text: "ShortWrites(3)"}}}
	r := &report.Report{Property: "progress", ViolationAt: 100 * ms, Clients: []report.Client{c, other}}
	es := elements(t, r)
	type box struct {
		x0, x1, y float64
		text      string
	}
	var boxes []box
	for _, e := range es {
		if e.lane != "lane-c0" || e.name != "text" || e.attr["font-size"] != "9" {
			continue
		}
		x := num(t, e.attr["x"])
		boxes = append(boxes, box{x, x + float64(len([]rune(e.text)))*5.0, num(t, e.attr["y"]), e.text})
	}
	if len(boxes) < 4 {
		t.Fatalf("only %d labels: %+v", len(boxes), boxes)
	}
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a.y == b.y && a.x0 < b.x1 && b.x0 < a.x1 {
				t.Errorf("labels overlap: %q at %.0f–%.0f and %q at %.0f–%.0f", a.text, a.x0, a.x1, b.text, b.x0, b.x1)
			}
		}
	}
	if !strings.Contains(texts(es, "lane-c1"), "a-kind-from-later ShortWrites(3)") {
		t.Errorf("an unknown event kind is not labelled: %q", texts(es, "lane-c1"))
	}
}

// Every step is spelled out whole under the chart, wrapped.
func TestTimelineStepsWhole(t *testing.T) {
	long := "pressure: a client stalls; every healthy client sends 200 requests at once, twice, and on until 5 MiB were pushed to a healthy client, the end"
	r := &report.Report{Property: "progress", ViolationAt: time.Second, Steps: []report.Step{{At: 0, Text: "connect c0"}, {At: 10 * time.Millisecond, Text: long}}}
	var all strings.Builder
	for _, e := range elements(t, r) {
		if e.name == "text" && e.lane == "" {
			all.WriteString(strings.TrimSpace(e.text) + " ")
		}
	}
	if !strings.Contains(all.String(), "2. 10 ms  pressure: a client stalls;") || !strings.Contains(strings.Join(strings.Fields(all.String()), " "), strings.Join(strings.Fields(long), " ")) {
		t.Errorf("step 2 is not whole under the chart:\n%s", all.String())
	}
}
