package properties

import (
	"fmt"
	"testing"
)

func TestStages(t *testing.T) {
	for _, c := range []struct {
		props []string
		side  bool
		want  string
	}{
		{allProps(), true, "[[progress] [isolation] [bounded] [consistency halfclose delivery leaks]]"},
		{allProps(), false, "[[progress] [isolation] [bounded] [consistency] [halfclose] [delivery] [leaks]]"},
		// A property that runs alone splits those that share.
		{[]string{"delivery", "bounded", "leaks", "consistency"}, true, "[[delivery] [bounded] [leaks consistency]]"},
		{[]string{"progress", "isolation"}, true, "[[progress] [isolation]]"},
		{nil, true, "[]"},
	} {
		if got := fmt.Sprint(stages(c.props, c.side)); got != c.want {
			t.Errorf("stages(%v, %v) = %s, want %s", c.props, c.side, got, c.want)
		}
	}
}
