package server

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stallproof/stallproof/wire"
)

// TestConsistency runs many clients voting concurrently, pipelined, and
// checks the properties of the total order: OK seqs are unique and cover
// 1..N; every TALLY k any client receives counts exactly the votes with
// seq <= k (snapshots are never torn); per client, TALLY seqs never go
// back, a pushed TALLY is never repeated and OK seqs increase (checked by
// the wire.Client); the final tally is what was sent.
func TestConsistency(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr transport) {
		e := start(t, tr, Config{}, nil)
		const (
			clients   = 12
			perClient = 300
			window    = 16 // votes in flight per client
		)
		type result struct {
			votes   map[uint64]int // seq -> option index
			tallies []wire.Msg
			err     error
		}
		results := make([]result, clients)
		cs := make([]*client, clients)
		for i := range cs {
			cs[i] = e.dial(t)
		}
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Go(func() {
				r := &results[i]
				r.votes = make(map[uint64]int)
				rng := rand.New(rand.NewPCG(uint64(i), 1))
				var sent []int
				next := 0
				for len(r.votes) < perClient {
					for next < perClient && next-len(r.votes) < window {
						k := rng.IntN(len(c.Options()))
						sent = append(sent, k)
						if err := c.Vote(c.Options()[k]); err != nil {
							r.err = err
							return
						}
						next++
					}
					m, err := c.read()
					if err != nil {
						r.err = err
						return
					}
					switch m.Kind {
					case wire.MsgOK:
						r.votes[m.Seq] = sent[len(r.votes)]
					case wire.MsgTally:
						r.tallies = append(r.tallies, m)
					default:
						r.err = fmt.Errorf("unexpected %v", m)
						return
					}
				}
			})
		}
		wg.Wait()
		const n = clients * perClient
		byseq := make([]int, n+1)
		for i := range byseq {
			byseq[i] = -1
		}
		for i, r := range results {
			if r.err != nil {
				t.Fatalf("client %d: %v", i, r.err)
			}
			for seq, k := range r.votes {
				if seq < 1 || seq > n || byseq[seq] >= 0 {
					t.Fatalf("OK seq %d out of range or given twice", seq)
				}
				byseq[seq] = k
			}
		}
		// prefix[k] = counts of the votes with seq <= k.
		prefix := make([][]uint64, n+1)
		prefix[0] = make([]uint64, len(DefaultOptions))
		for seq := 1; seq <= n; seq++ {
			prefix[seq] = append([]uint64(nil), prefix[seq-1]...)
			prefix[seq][byseq[seq]]++
		}
		checked, interior := 0, 0
		for i, r := range results {
			for j, m := range r.tallies {
				// No client sends TALLY: every TALLY line is a push, and
				// pushed seqs strictly increase.
				if j > 0 && m.Seq <= r.tallies[j-1].Seq {
					t.Fatalf("client %d: pushed TALLY %d after %d", i, m.Seq, r.tallies[j-1].Seq)
				}
				for k, got := range m.Counts {
					if got != prefix[m.Seq][k] {
						t.Fatalf("client %d: TALLY %d has %s=%d, but %d votes for it have seq <= %d",
							i, m.Seq, DefaultOptions[k], got, prefix[m.Seq][k], m.Seq)
					}
				}
				checked++
				if m.Seq > 0 && m.Seq < n {
					interior++
				}
			}
		}
		// A run that checked no tally, or only the first and the last,
		// could not have seen a torn one: that is no pass.
		require.Positive(t, interior, "pushed tallies checked with 0 < seq < %d (of %d checked)", n, checked)
		st := e.s.Stats()
		for k, o := range DefaultOptions {
			if st.Votes[o] != prefix[n][k] {
				t.Fatalf("final %s=%d, want %d", o, st.Votes[o], prefix[n][k])
			}
		}
		// Every client that keeps reading gets the final tally.
		for _, c := range cs {
			c.waitTally(n)
		}
		t.Logf("%d votes, %d tallies checked, %d snapshots sent, %d conflated", n, checked, st.SnapshotsSent, st.SnapshotsConflated)
	})
}
