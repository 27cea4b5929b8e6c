package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// qmpClient speaks the QEMU Machine Protocol over a unix socket: one
// connection per use, the greeting read, capabilities negotiated, then
// commands sent one at a time; asynchronous events are skipped.
type qmpClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// qmpError is an error answer from QEMU.
type qmpError struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *qmpError) Error() string { return "qmp: " + e.Class + ": " + e.Desc }

type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *qmpError       `json:"error"`
	Event  string          `json:"event"`
}

// dialQMP connects to a QMP socket and negotiates capabilities. The
// deadline of ctx (or 5 s) bounds every exchange on the connection.
func dialQMP(ctx context.Context, path string) (*qmpClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	c := &qmpClient{conn: conn, r: bufio.NewReader(conn)}
	greeting, err := c.read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("qmp: reading the greeting: %w", err)
	}
	if greeting.QMP == nil {
		conn.Close()
		return nil, errors.New("qmp: the server did not greet with a QMP banner")
	}
	if _, err := c.execute("qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *qmpClient) read() (*qmpMessage, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var m qmpMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("qmp: bad message %q: %w", line, err)
	}
	return &m, nil
}

// execute sends one command and returns its "return" value.
func (c *qmpClient) execute(cmd string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": cmd}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	for {
		m, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("qmp: %s: %w", cmd, err)
		}
		switch {
		case m.Event != "":
			continue
		case m.Error != nil:
			return nil, m.Error
		case m.Return != nil:
			return m.Return, nil
		}
	}
}

// status is query-status: "running", "paused", "shutdown", ...
func (c *qmpClient) status() (string, error) {
	raw, err := c.execute("query-status", nil)
	if err != nil {
		return "", err
	}
	var st struct {
		Status  string `json:"status"`
		Running bool   `json:"running"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return "", fmt.Errorf("qmp: query-status: %w", err)
	}
	return st.Status, nil
}

func (c *qmpClient) Close() error { return c.conn.Close() }

// qmpDo runs one command on a fresh connection.
func qmpDo(ctx context.Context, sock, cmd string) (json.RawMessage, error) {
	c, err := dialQMP(ctx, sock)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.execute(cmd, nil)
}

// qmpStatus queries the run state on a fresh connection.
func qmpStatus(ctx context.Context, sock string) (string, error) {
	c, err := dialQMP(ctx, sock)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.status()
}
