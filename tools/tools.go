//go:build tools

// Package tools pins the lint tools used by `make lint`, in a module of their
// own so that importers of stallproof do not inherit them.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
