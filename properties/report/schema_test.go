package report_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const schemaPath = "../../docs/report.schema.json"

// schema is the part of JSON Schema that docs/report.schema.json uses.
type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	Enum       []any              `json:"enum"`
	Const      any                `json:"const"`
	Minimum    *float64           `json:"minimum"`
	Pattern    string             `json:"pattern"`
	Defs       map[string]*schema `json:"$defs"`
}

func loadSchema(t *testing.T) *schema {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	return &s
}

// validate checks v (decoded with encoding/json into any) against s, and
// also reports any property s does not describe, so the schema file must
// keep up with what the package writes. It returns every problem found.
func validate(root, s *schema, v any, path string) []string {
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
		def := root.Defs[name]
		if !ok || def == nil {
			return []string{fmt.Sprintf("%s: unresolved $ref %q", path, s.Ref)}
		}
		s = def
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return errs
		}
		for _, k := range s.Required {
			if _, ok := obj[k]; !ok {
				bad("required %q missing", k)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := s.Properties[k]
			if !ok {
				bad("%q is not in the schema", k)
				continue
			}
			errs = append(errs, validate(root, ps, obj[k], path+"."+k)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return errs
		}
		for i, e := range arr {
			errs = append(errs, validate(root, s.Items, e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return errs
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			bad("%q does not match %s", str, s.Pattern)
		}
	case "integer", "number":
		n, ok := v.(float64)
		if !ok {
			bad("want a number, got %T", v)
			return errs
		}
		if s.Type == "integer" && n != math.Trunc(n) {
			bad("want an integer, got %v", n)
		}
		if s.Minimum != nil && n < *s.Minimum {
			bad("%v is below the minimum %v", n, *s.Minimum)
		}
	default:
		bad("schema type %q not handled by this checker", s.Type)
	}
	if s.Enum != nil && !slices.Contains(s.Enum, v) {
		bad("%v is not one of %v", v, s.Enum)
	}
	if s.Const != nil && s.Const != v {
		bad("%v, want %v", v, s.Const)
	}
	return errs
}

func validateJSON(t *testing.T, data []byte) []string {
	t.Helper()
	root := loadSchema(t)
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("report.json does not parse: %v", err)
	}
	return validate(root, root, v, "$")
}

// The checker must catch what it is for; else a passing validation means
// nothing.
func TestSchemaCheckerCatches(t *testing.T) {
	data, err := json.Marshal(freeze())
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"missing required": func(m map[string]any) { delete(m, "violation") },
		"unknown field":    func(m map[string]any) { m["extra"] = 1 },
		"wrong type":       func(m map[string]any) { m["bound_ms"] = "2s" },
		"bad seed":         func(m map[string]any) { m["seed"] = "-3" },
		"bad mark kind": func(m map[string]any) {
			m["clients"].([]any)[0].(map[string]any)["marks"].([]any)[0].(map[string]any)["kind"] = "shout"
		},
		"missing in a client": func(m map[string]any) { delete(m["clients"].([]any)[1].(map[string]any), "role") },
		"wrong version":       func(m map[string]any) { m["version"] = 2 },
	} {
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		edit(m)
		bad, _ := json.Marshal(m)
		if errs := validateJSON(t, bad); len(errs) == 0 {
			t.Errorf("%s: the checker found nothing wrong", name)
		}
	}
}
