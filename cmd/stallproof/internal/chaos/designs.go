package chaos

import "github.com/stallproof/stallproof/cmd/stallproof/internal/designs"

// The design registry moved to package designs, so that bench need not
// import chaos. These names stay for code written against the old place
// (other branches in flight); new code uses package designs.

// Design is a designs.Design.
//
// Deprecated: use designs.Design.
type Design = designs.Design

// Designs returns every design.
//
// Deprecated: use designs.All.
func Designs() []Design { return designs.All() }

// LookupDesigns returns the designs named, in order.
//
// Deprecated: use designs.Lookup.
func LookupDesigns(names []string) ([]Design, error) { return designs.Lookup(names) }
