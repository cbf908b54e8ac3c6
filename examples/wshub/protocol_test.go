package wshub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/stallproof/stallproof/properties"
)

// protocol describes the hub to the suite with gorilla's own client, over
// the suite's connections: every client is a member that publishes (each
// request is a message, answered when the hub echoes it back) and receives
// everyone's messages (pushes).
var protocol = properties.Protocol{
	Name:               "wshub (gorilla/websocket)",
	Roles:              []properties.Role{{Name: "member", Publishes: true, Subscribes: true}},
	Connect:            connectMember,
	ConcurrentRequests: true, // Request takes a write lock and waits for its own echo
}

// member is one client of the hub.
type member struct {
	conn *websocket.Conn
	id   int
	wmu  sync.Mutex // one writer at a time, as gorilla requires

	mu      sync.Mutex
	waiting map[string]chan struct{} // own messages not yet echoed
	ended   chan struct{}            // closed when reading ends
	err     error                    // why reading ended
}

func connectMember(ctx context.Context, dial properties.DialFunc, info properties.ClientInfo, onPush func([]byte)) (properties.Client, error) {
	d := websocket.Dialer{NetDialContext: dial}
	conn, _, err := d.DialContext(ctx, "ws://hub.test/ws", nil)
	if err != nil {
		return nil, err
	}
	// The hub's first message says the client is counted in.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	_, msg, err := conn.ReadMessage()
	if !stop() || err != nil {
		conn.Close()
		return nil, fmt.Errorf("waiting for joined: %w", errors.Join(err, ctx.Err()))
	}
	if !strings.HasPrefix(string(msg), "joined ") {
		conn.Close()
		return nil, fmt.Errorf("first message %q, want joined <n>", msg)
	}
	m := &member{conn: conn, id: info.ID, waiting: map[string]chan struct{}{}, ended: make(chan struct{})}
	go m.read(onPush)
	return m, nil
}

// read hands every message to onPush, except the echoes of the member's
// own messages, which answer its requests.
func (m *member) read(onPush func([]byte)) {
	defer close(m.ended)
	for {
		_, msg, err := m.conn.ReadMessage()
		if err != nil {
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			return
		}
		m.mu.Lock()
		echo, own := m.waiting[string(msg)]
		delete(m.waiting, string(msg))
		m.mu.Unlock()
		if own {
			close(echo)
		} else {
			onPush(msg)
		}
	}
}

// Request sends message n and waits for the hub to echo it.
func (m *member) Request(ctx context.Context, n int) error {
	msg := fmt.Sprintf("c%d-%d", m.id, n)
	echo := make(chan struct{})
	m.mu.Lock()
	m.waiting[msg] = echo
	m.mu.Unlock()
	m.wmu.Lock()
	stop := context.AfterFunc(ctx, func() { m.conn.SetWriteDeadline(time.Unix(1, 0)) })
	err := m.conn.WriteMessage(websocket.TextMessage, []byte(msg))
	stop()
	m.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-echo:
		return nil
	case <-m.ended:
		m.mu.Lock()
		defer m.mu.Unlock()
		return fmt.Errorf("the connection ended: %w", m.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the connection has ended: the hub dropped the member
// (a close message 1008, "slow consumer") or closed it. The suite reads
// it: a dropped subscriber counts as told.
func (m *member) Done() <-chan struct{} { return m.ended }

func (m *member) Close() error {
	err := m.conn.Close()
	<-m.ended
	return err
}
