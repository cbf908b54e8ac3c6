package report_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stallproof/stallproof/properties/report"
)

func TestJSONRoundTrip(t *testing.T) {
	r := freeze()
	r.Version = report.Version
	r.Seed = 1<<64 - 1                        // the largest seed survives: it is written as a string
	r.ViolationAt = 2350*time.Millisecond + 1 // and so does a nanosecond
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*r, back) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", back, *r)
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	for name, r := range map[string]*report.Report{"freeze": freeze(), "empty": {}} {
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if errs := validateJSON(t, data); len(errs) > 0 {
			t.Errorf("%s: report.json does not match %s:\n%s", name, schemaPath, strings.Join(errs, "\n"))
		}
	}
}

func TestJSONNames(t *testing.T) {
	data, _ := json.Marshal(freeze())
	for _, want := range []string{`"version":1`, `"seed":"8213418841"`, `"bound_ms":2000`, `"violation_at_ms":2350`, `"to_ms":-1`, `"from_ms":300`, `"wrote_bytes":`, `"count":6`, `"file":"srv.go","line":88`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report.json lacks %s:\n%s", want, data)
		}
	}
}

func TestJSONRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"newer version": `{"version": 2, "seed": "1"}`,
		"no version":    `{"seed": "1"}`,
		"bad seed":      `{"version": 1, "seed": "0x10"}`,
		"not json":      `{"version": 1,`,
	} {
		var r report.Report
		if err := json.Unmarshal([]byte(in), &r); err == nil {
			t.Errorf("%s: decoded %s without an error", name, in)
		}
	}
}
