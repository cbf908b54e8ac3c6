package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/stallproof/stallproof/faultnet"
)

// controlAPI is the proxy's HTTP JSON control API, documented in
// docs/proxy.md and in "stallproof help proxy":
//
//	GET    /stats         the proxy's counters
//	GET    /conns         the live connections, with their counters and faults
//	GET    /conns/{id}    one connection, with its event log
//	GET    /faults        the faults added through the API and still in place
//	POST   /faults        add a fault: {"conn": 3 or "new", "leg": "upstream", "fault": {...}}
//	DELETE /faults/{id}   remove one
//
// Errors are {"error": "..."} with status 400 (bad request), 404 (no such
// connection or fault) or 405.
type controlAPI struct {
	p *faultnet.Proxy

	mu     sync.Mutex
	nextID uint64
	faults map[uint64]*apiFault
}

// apiFault is a fault added through the API: into one connection (inj) or
// into every new one (rule).
type apiFault struct {
	ID    uint64 `json:"id"`
	Conn  any    `json:"conn"` // a connection's ID, or "new"
	Leg   string `json:"leg"`
	Fault string `json:"fault"` // as faultnet prints it

	inj  *faultnet.Injection
	pc   *faultnet.ProxyConn
	rule *faultnet.ProxyFault
}

func newControlAPI(p *faultnet.Proxy) *controlAPI {
	return &controlAPI{p: p, faults: make(map[uint64]*apiFault)}
}

func (a *controlAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", a.stats)
	mux.HandleFunc("GET /conns", a.conns)
	mux.HandleFunc("GET /conns/{id}", a.conn)
	mux.HandleFunc("GET /faults", a.listFaults)
	mux.HandleFunc("POST /faults", a.addFault)
	mux.HandleFunc("DELETE /faults/{id}", a.removeFault)
	// Other methods on the API's paths, and other paths: JSON errors too.
	for path, allowed := range map[string]string{"/stats": "GET", "/conns": "GET", "/conns/{id}": "GET", "/faults": "GET, POST", "/faults/{id}": "DELETE"} {
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
}

func (a *controlAPI) stats(w http.ResponseWriter, _ *http.Request) {
	st := a.p.Stats()
	writeJSON(w, http.StatusOK, statsJSON{a.p.Addr().String(), a.p.Upstream(), st.Accepted, st.Live, st.DialErrors, st.LastDialError})
}

type legJSON struct {
	Written      int64    `json:"written"`
	Read         int64    `json:"read"`
	WriteBlocked duration `json:"write_blocked"`
	ReadBlocked  duration `json:"read_blocked"`
	Faults       []string `json:"faults"`
}

type connJSON struct {
	ID      uint64    `json:"id"`
	Client  string    `json:"client"`
	Started time.Time `json:"started"`
	Up      int64     `json:"up"`
	Down    int64     `json:"down"`
	Legs    struct {
		Client   legJSON `json:"client"`
		Upstream legJSON `json:"upstream"`
	} `json:"legs"`
	Events []string `json:"events,omitempty"`
}

func legOf(s faultnet.Stats) legJSON {
	return legJSON{s.Written, s.Read, duration(s.WriteBlocked), duration(s.ReadBlocked), append([]string{}, s.Faults...)}
}

func connOf(pc *faultnet.ProxyConn) connJSON {
	st := pc.Stats()
	c := connJSON{ID: st.ID, Client: st.ClientAddr, Started: st.Started, Up: st.Up, Down: st.Down}
	c.Legs.Client, c.Legs.Upstream = legOf(st.Client), legOf(st.Upstream)
	return c
}

func (a *controlAPI) conns(w http.ResponseWriter, _ *http.Request) {
	out := []connJSON{}
	for _, pc := range a.p.Conns() {
		out = append(out, connOf(pc))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *controlAPI) conn(w http.ResponseWriter, r *http.Request) {
	pc, err := a.lookupConn(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	c := connOf(pc)
	for _, e := range pc.Events() {
		c.Events = append(c.Events, e.String())
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

// prune forgets the faults of connections that have ended. Caller holds mu.
func (a *controlAPI) prune() {
	for id, f := range a.faults {
		if f.pc == nil {
			continue
		}
		select {
		case <-f.pc.Done():
			delete(a.faults, id)
		default:
		}
	}
}

func (a *controlAPI) sorted() []*apiFault {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prune()
	out := make([]*apiFault, 0, len(a.faults))
	for _, f := range a.faults {
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y *apiFault) int { return int(x.ID) - int(y.ID) })
	return out
}

func (a *controlAPI) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.sorted())
}

// addRequest is the body of POST /faults.
type addRequest struct {
	Conn  json.RawMessage `json:"conn"`
	Leg   string          `json:"leg"`
	Fault json.RawMessage `json:"fault"`
}

// maxBody bounds a request body.
const maxBody = 64 << 10

func (a *controlAPI) addFault(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("reading the request: %v", err))
		return
	}
	f, status, err := a.add(body)
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

func (a *controlAPI) add(body []byte) (*apiFault, int, error) {
	var req addRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("bad request: %v (want {\"conn\": 3 or \"new\", \"leg\": \"client\" or \"upstream\", \"fault\": {\"kind\": ...}})", err)
	}
	leg, err := parseLeg(req.Leg)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if len(req.Fault) == 0 {
		return nil, http.StatusBadRequest, errors.New("no fault: want \"fault\": {\"kind\": ...}")
	}
	spec, err := decodeFault(req.Fault)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("fault: %v", err)
	}
	fault, err := spec.fault()
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	f := &apiFault{Leg: leg.String(), Fault: fault.String()}
	var target string
	if err := json.Unmarshal(req.Conn, &target); err == nil {
		if target != "new" {
			return nil, http.StatusBadRequest, fmt.Errorf("conn %q: want a connection's number or \"new\" (every new connection)", target)
		}
		f.Conn = "new"
		f.rule = a.p.InjectNew(leg, fault)
	} else {
		var id uint64
		if err := json.Unmarshal(req.Conn, &id); err != nil {
			return nil, http.StatusBadRequest, errors.New("conn: want a connection's number or \"new\" (every new connection)")
		}
		pc := a.p.Conn(id)
		if pc == nil {
			return nil, http.StatusNotFound, fmt.Errorf("no live connection %d (GET /conns lists them)", id)
		}
		f.Conn, f.pc = id, pc
		f.inj = pc.Inject(leg, fault)
	}
	a.mu.Lock()
	a.nextID++
	f.ID = a.nextID
	a.faults[f.ID] = f
	a.mu.Unlock()
	return f, 0, nil
}

func (a *controlAPI) removeFault(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("fault %q: want a fault's number (GET /faults lists them)", r.PathValue("id")))
		return
	}
	a.mu.Lock()
	f := a.faults[id]
	delete(a.faults, id)
	a.mu.Unlock()
	if f == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("no fault %d (GET /faults lists them)", id))
		return
	}
	if f.rule != nil {
		f.rule.Remove()
	} else {
		f.inj.Remove()
	}
	writeJSON(w, http.StatusOK, f)
}
