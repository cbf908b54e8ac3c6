package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// controlAPI is the proxy's HTTP JSON control API, documented in
// docs/proxy.md and in "stallproof help proxy":
//
//	GET    /stats          the proxy's counters
//	GET    /conns          the live connections, with their counters and faults
//	GET    /conns/{id}     one connection, with its event log
//	GET    /faults         the faults added through the API and still in place
//	POST   /faults         add a fault: {"name": ..., "conn": 3 or "new", "stream": "downstream", "fault": {...}}
//	GET    /faults/{ref}   one fault, by number or name
//	DELETE /faults/{ref}   remove one
//	POST   /reset          remove every fault
//
// Errors are {"error": "..."} with status 400 (bad request), 404 (no such
// connection or fault), 405 or 409 (a fault's name taken).
type controlAPI struct {
	p     *faultnet.Proxy
	watch *serverWatch // nil: no server-blocked events

	mu     sync.Mutex
	nextID uint64
	faults map[uint64]*apiFault
}

func newControlAPI(p *faultnet.Proxy) *controlAPI {
	return &controlAPI{p: p, faults: make(map[uint64]*apiFault)}
}

// watching makes the API show the server-blocked events of w (nil: none).
func (a *controlAPI) watching(w *serverWatch) *controlAPI {
	a.watch = w
	return a
}

func (a *controlAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", a.stats)
	mux.HandleFunc("GET /conns", a.conns)
	mux.HandleFunc("GET /conns/{id}", a.conn)
	mux.HandleFunc("GET /faults", a.listFaults)
	mux.HandleFunc("POST /faults", a.addFault)
	mux.HandleFunc("GET /faults/{ref}", a.getFault)
	mux.HandleFunc("DELETE /faults/{ref}", a.removeFault)
	mux.HandleFunc("POST /reset", a.reset)
	// Other methods on the API's paths, and other paths: JSON errors too.
	for path, allowed := range map[string]string{"/stats": "GET", "/conns": "GET", "/conns/{id}": "GET", "/faults": "GET, POST", "/faults/{ref}": "GET, DELETE", "/reset": "POST"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allowed))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no such endpoint %s %s (see stallproof help proxy)", r.Method, r.URL.Path))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

type statsJSON struct {
	Listen        string `json:"listen"`
	Upstream      string `json:"upstream"`
	Accepted      int64  `json:"accepted"`
	Live          int    `json:"live"`
	DialErrors    int64  `json:"dial_errors"`
	LastDialError string `json:"last_dial_error,omitempty"`
	Goroutines    int    `json:"goroutines"` // in the whole process: two per live connection, and a few
}

func (a *controlAPI) stats(w http.ResponseWriter, _ *http.Request) {
	st := a.p.Stats()
	writeJSON(w, http.StatusOK, statsJSON{a.p.Addr().String(), a.p.Upstream(), st.Accepted, st.Live, st.DialErrors, st.LastDialError, runtime.NumGoroutine()})
}

type legJSON struct {
	Written      int64    `json:"written"`
	Read         int64    `json:"read"`
	WriteBlocked duration `json:"write_blocked"`
	ReadBlocked  duration `json:"read_blocked"`
	Faults       []string `json:"faults"`
}

type connJSON struct {
	ID            uint64    `json:"id"`
	Client        string    `json:"client"`         // the client's address
	UpstreamLocal string    `json:"upstream_local"` // the proxy's on the upstream leg: the client as the server sees it
	Started       time.Time `json:"started"`
	Up            int64     `json:"up"`
	Down          int64     `json:"down"`
	Legs          struct {
		Client   legJSON `json:"client"`
		Upstream legJSON `json:"upstream"`
	} `json:"legs"`
	// ServerBlocked: when the kernel showed the server's writes on this
	// connection blocked (Linux), or absent.
	ServerBlocked *serverBlocked `json:"server_blocked,omitempty"`
	Events        []string       `json:"events,omitempty"`
}

func legOf(s faultnet.Stats) legJSON {
	return legJSON{s.Written, s.Read, duration(s.WriteBlocked), duration(s.ReadBlocked), append([]string{}, s.Faults...)}
}

func (a *controlAPI) connOf(pc *faultnet.ProxyConn) connJSON {
	st := pc.Stats()
	c := connJSON{ID: st.ID, Client: st.ClientAddr, UpstreamLocal: st.UpstreamLocal, Started: st.Started, Up: st.Up, Down: st.Down}
	c.Legs.Client, c.Legs.Upstream = legOf(st.Client), legOf(st.Upstream)
	c.ServerBlocked = a.watch.blocked(st.ID)
	return c
}

func (a *controlAPI) conns(w http.ResponseWriter, _ *http.Request) {
	out := []connJSON{}
	for _, pc := range a.p.Conns() {
		out = append(out, a.connOf(pc))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *controlAPI) conn(w http.ResponseWriter, r *http.Request) {
	pc, err := a.lookupConn(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	c := a.connOf(pc)
	for _, e := range pc.Events() {
		c.Events = append(c.Events, e.String())
	}
	if b := c.ServerBlocked; b != nil {
		c.Events = append(c.Events, fmt.Sprintf("t=%v %s", b.At.Sub(c.Started).Round(time.Microsecond), b))
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *controlAPI) lookupConn(s string) (*faultnet.ProxyConn, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("connection %q: want a connection's number (GET /conns lists them)", s)
	}
	pc := a.p.Conn(id)
	if pc == nil {
		return nil, fmt.Errorf("no live connection %d (GET /conns lists them)", id)
	}
	return pc, nil
}
