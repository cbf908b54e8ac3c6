package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/stallproof/stallproof/faultnet"
)

// apiFault is a fault added through the API, into one connection (inj) or
// into every new one (rule). It is shown, and may be posted back, as
//
//	{"id": 1, "name": "latency_downstream", "conn": "new", "stream": "downstream",
//	 "leg": "client", "fault": {"kind": "latency", "delay": "20ms"}, "call": "Latency(20ms, 0s)"}
//
// where id and call are ignored on POST, and stream and leg say the same
// thing twice (either is enough).
type apiFault struct {
	ID     uint64     `json:"id"`
	Name   string     `json:"name"`
	Conn   any        `json:"conn"` // a connection's ID, or "new"
	Stream string     `json:"stream"`
	Leg    string     `json:"leg"`
	Fault  *faultSpec `json:"fault"`
	Call   string     `json:"call"` // the fault as faultnet prints it

	inj  *faultnet.Injection
	pc   *faultnet.ProxyConn
	rule *faultnet.ProxyFault
}

// remove takes the fault out of the proxy.
func (f *apiFault) remove() {
	if f.rule != nil {
		f.rule.Remove()
	} else {
		f.inj.Remove()
	}
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

// addRequest is the body of POST /faults: a fault as GET shows it.
type addRequest struct {
	ID     json.RawMessage `json:"id"` // ignored
	Name   string          `json:"name"`
	Conn   json.RawMessage `json:"conn"`
	Stream string          `json:"stream"`
	Leg    string          `json:"leg"`
	Fault  json.RawMessage `json:"fault"` // {"kind": ...} or "Latency(20ms)"
	Call   string          `json:"call"`  // used only without "fault"
}

// maxBody bounds a request body.
const maxBody = 64 << 10

const addForm = `{"name": "slow", "conn": 3 or "new", "stream": "upstream" or "downstream", "fault": {"kind": ...}}`

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

var faultName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (a *controlAPI) add(body []byte) (*apiFault, int, error) {
	var req addRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("bad request: %v (want %s)", err, addForm)
	}
	spec, err := req.spec()
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("fault: %v", err)
	}
	fault, err := spec.fault()
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	leg, stream, err := req.where(spec)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if req.Name != "" && (!faultName.MatchString(req.Name) || isNumber(req.Name)) {
		return nil, http.StatusBadRequest, fmt.Errorf("name %q: want 1 to 64 letters, digits, '_', '.' or '-', not only digits", req.Name)
	}
	f := &apiFault{Name: req.Name, Stream: stream, Leg: leg.String(), Fault: spec, Call: fault.String()}
	var target string
	var pc *faultnet.ProxyConn
	switch err := json.Unmarshal(req.Conn, &target); {
	case len(req.Conn) == 0 || err == nil && target == "new":
		f.Conn = "new"
	case err == nil:
		return nil, http.StatusBadRequest, fmt.Errorf("conn %q: want a connection's number or \"new\" (every new connection, the default)", target)
	default:
		var id uint64
		if err := json.Unmarshal(req.Conn, &id); err != nil {
			return nil, http.StatusBadRequest, errors.New("conn: want a connection's number or \"new\" (every new connection, the default)")
		}
		if pc = a.p.Conn(id); pc == nil {
			return nil, http.StatusNotFound, fmt.Errorf("no live connection %d (GET /conns lists them)", id)
		}
		f.Conn, f.pc = id, pc
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prune()
	if f.Name == "" {
		f.Name = a.freeName(spec.Kind + "_" + stream)
	} else if a.named(f.Name) != nil {
		return nil, http.StatusConflict, fmt.Errorf("a fault named %q is in place: DELETE /faults/%s first, or choose another name", f.Name, f.Name)
	}
	if pc != nil {
		f.inj = pc.Inject(leg, fault)
	} else {
		f.rule = a.p.InjectNew(leg, fault)
	}
	a.nextID++
	f.ID = a.nextID
	a.faults[f.ID] = f
	return f, 0, nil
}

// spec returns the fault of the request: "fault", as an object or a call,
// or else "call".
func (req *addRequest) spec() (*faultSpec, error) {
	raw := bytes.TrimSpace(req.Fault)
	switch {
	case len(raw) == 0 && req.Call == "":
		return nil, errors.New(`none: want "fault": {"kind": ...}`)
	case len(raw) == 0:
		return parseFaultCall(req.Call)
	case raw[0] == '"':
		var call string
		if err := json.Unmarshal(raw, &call); err != nil {
			return nil, err
		}
		return parseFaultCall(call)
	}
	return decodeFault(raw)
}

// where returns the leg and the stream the request names, by its stream,
// its leg, or both if they agree.
func (req *addRequest) where(spec *faultSpec) (faultnet.Leg, string, error) {
	switch {
	case req.Stream == "" && req.Leg == "":
		return 0, "", errors.New(`no stream: want "stream": "upstream" (client to server) or "downstream" (server to client)`)
	case req.Stream == "":
		leg, err := parseLeg(req.Leg)
		if err != nil {
			return 0, "", err
		}
		return leg, spec.streamOf(leg), nil
	}
	leg, err := spec.legFor(req.Stream)
	if err != nil {
		return 0, "", err
	}
	if req.Leg != "" && req.Leg != leg.String() {
		return 0, "", fmt.Errorf("stream %q and leg %q disagree: %s on the %s stream goes on the %v leg", req.Stream, req.Leg, spec.Kind, req.Stream, leg)
	}
	return leg, req.Stream, nil
}

// freeName returns base, or base_2, base_3, ...: a name no fault has.
// Caller holds mu.
func (a *controlAPI) freeName(base string) string {
	name := base
	for i := 2; a.named(name) != nil; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// named returns the fault called name, or nil. Caller holds mu.
func (a *controlAPI) named(name string) *apiFault {
	for _, f := range a.faults {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// lookup returns the fault a path names, by number or name.
func (a *controlAPI) lookup(ref string) (*apiFault, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prune()
	var f *apiFault
	if id, err := strconv.ParseUint(ref, 10, 64); err == nil {
		f = a.faults[id]
	} else {
		f = a.named(ref)
	}
	if f == nil {
		return nil, http.StatusNotFound, fmt.Errorf("no fault %q (GET /faults lists them)", ref)
	}
	return f, 0, nil
}

func (a *controlAPI) getFault(w http.ResponseWriter, r *http.Request) {
	f, status, err := a.lookup(r.PathValue("ref"))
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (a *controlAPI) removeFault(w http.ResponseWriter, r *http.Request) {
	f, status, err := a.lookup(r.PathValue("ref"))
	if err != nil {
		writeError(w, status, err)
		return
	}
	a.mu.Lock()
	_, ok := a.faults[f.ID]
	delete(a.faults, f.ID)
	a.mu.Unlock()
	if !ok { // removed meanwhile
		writeError(w, http.StatusNotFound, fmt.Errorf("no fault %q (GET /faults lists them)", r.PathValue("ref")))
		return
	}
	f.remove()
	writeJSON(w, http.StatusOK, f)
}

// reset removes every fault: those added through the API and those given
// by -fault.
func (a *controlAPI) reset(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	a.prune()
	all := a.faults
	a.faults = make(map[uint64]*apiFault)
	a.mu.Unlock()
	n := 0
	for _, f := range all {
		f.remove()
		n++
	}
	for _, r := range a.p.Faults() {
		r.Remove()
		n++
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": n})
}
