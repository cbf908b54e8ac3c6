package report_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties/report"
)

func TestSpansFromEvents(t *testing.T) {
	ms := time.Millisecond
	events := []report.Event{
		{At: 10 * ms, Kind: "inject", Text: "StallReads()"},
		{At: 20 * ms, Kind: "buffer-full", Text: "at byte 8192"},
		{At: 30 * ms, Kind: "inject", Text: "Reset()"},
		{At: 40 * ms, Kind: "remove", Text: "StallReads()"},
		{At: 50 * ms, Kind: "inject", Text: "StallReads()"},
		{At: 60 * ms, Kind: "inject", Text: "AfterTime(100ms, TrickleReads(1, 10ms))"},
		{At: 160 * ms, Kind: "fire", Text: "TrickleReads(1, 10ms)"},
		{At: 200 * ms, Kind: "remove", Text: "AfterTime(100ms, TrickleReads(1, 10ms))"},
		{At: 210 * ms, Kind: "inject", Text: "Latency(5ms, 0s)"},
	}
	want := []report.Span{
		{From: 10 * ms, To: 40 * ms, Kind: "stall", Text: "StallReads()"},
		{From: 50 * ms, To: report.Unlifted, Kind: "stall", Text: "StallReads()"},
		{From: 160 * ms, To: 200 * ms, Kind: "trickle", Text: "TrickleReads(1, 10ms)"},
		{From: 210 * ms, To: report.Unlifted, Kind: "latency", Text: "Latency(5ms, 0s)"},
	}
	if got := report.SpansFromEvents(events); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := report.SpansFromEvents(nil); got != nil {
		t.Errorf("no events: %+v", got)
	}
}
