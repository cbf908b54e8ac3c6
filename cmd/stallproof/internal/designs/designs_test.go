package designs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	_, err := Lookup([]string{"reference", "nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lock-across-write", "the error lists the known designs")
	_, err = Lookup([]string{"reference", "reference"})
	assert.ErrorContains(t, err, "named twice")
	ds, err := Lookup([]string{"ack-only", "reference"})
	require.NoError(t, err)
	assert.Equal(t, "ack-only", ds[0].Name)
	assert.Equal(t, "reference", ds[1].Name)
}

func TestStart(t *testing.T) {
	ds, err := Lookup([]string{"reference", "ack-only"})
	require.NoError(t, err)
	serve, ev, err := ds[0].Start(0)
	require.NoError(t, err)
	assert.NotNil(t, serve)
	assert.NotNil(t, ev, "the reference counts its evictions")
	serve, ev, err = ds[1].Start(0)
	require.NoError(t, err)
	assert.NotNil(t, serve)
	assert.Nil(t, ev, "ack-only keeps no count")
}
