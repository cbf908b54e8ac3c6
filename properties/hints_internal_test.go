package properties

import (
	"strconv"
	"strings"
	"testing"
)

// rapid's "To reproduce" line, with and without a fail file, becomes the
// command's replay, and its seed is remembered for the report.
func TestHintsRewrite(t *testing.T) {
	h := newConfig([]Option{Hints("-run-all", func(p string, seed uint64) string {
		return "stallproof check -props=" + p + " -seed=" + strconv.FormatUint(seed, 10)
	})}).hints
	for _, msg := range []string{
		"[rapid] failed\nTo reproduce, specify -run=\"x/bounded\" -rapid.seed=42\nFailed test output:",
		"[rapid] failed\nTo reproduce, specify -run=\"x/bounded\" -rapid.failfile=\"a b.fail\" (or -rapid.seed=42)\nFailed test output:",
	} {
		got := h.rewrite("bounded", msg)
		if !strings.Contains(got, "To reproduce, run stallproof check -props=bounded -seed=42\n") || strings.Contains(got, "rapid.") {
			t.Errorf("rewrite(%q) = %q", msg, got)
		}
	}
	if got := h.replayFor("bounded", 0); got != "stallproof check -props=bounded -seed=42" {
		t.Errorf("replayFor = %q, want the remembered seed", got)
	}
	if h.runAllHint() != "-run-all" || (hints{}).runAllHint() != "RunAll()" {
		t.Errorf("runAllHint: %q, %q", h.runAllHint(), (hints{}).runAllHint())
	}
	if msg := "To reproduce, specify -run=\"x\" -rapid.seed=1"; (hints{}).rewrite("p", msg) != msg {
		t.Error("without Hints, rapid's line must stay as it is (go test takes those flags)")
	}
}
