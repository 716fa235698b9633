package k8scluster

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"time"
)

// DataServerIP is an address of the node's own (on its loopback, inside
// the cluster's network namespace), the same in every cluster: images
// built for the cluster name it as their data server
// (JENNIFER_SERVER_ADDRESS, --server-address), and pods reach it through
// their gateway without masquerading, so a server there sees each pod's
// own IP. DataServerPort is JENNIFER's default data port.
const (
	DataServerIP   = "10.250.255.1"
	DataServerPort = 5000
)

// AgentServer stands in for the JENNIFER data server: it accepts agents'
// connections on DataServerIP:DataServerPort and keeps the first line
// each source address (a pod's IP) sent: the test agents and the sample
// agent send "JENNIFER domain_id=<id> agent=<type>".
type AgentServer struct {
	ln      net.Listener
	mu      sync.Mutex
	reports map[string]AgentReport
	conns   int
	changed chan struct{}
}

// AgentReport is what one pod's agent sent, and when.
type AgentReport struct {
	Line string
	At   time.Time
}

// StartAgentServer starts the cluster's data server; Close stops it.
func (c *Cluster) StartAgentServer() (*AgentServer, error) {
	ln, err := c.Listen("tcp", net.JoinHostPort(DataServerIP, "5000"))
	if err != nil {
		return nil, err
	}
	s := &AgentServer{ln: ln, reports: map[string]AgentReport{}, changed: make(chan struct{})}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.handle(conn)
		}
	}()
	return s, nil
}

func (s *AgentServer) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns++
	if _, seen := s.reports[host]; !seen {
		s.reports[host] = AgentReport{strings.TrimSpace(line), time.Now()}
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// Reports returns what each pod IP's agent sent.
func (s *AgentServer) Reports() map[string]AgentReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]AgentReport, len(s.reports))
	for ip, r := range s.reports {
		out[ip] = r
	}
	return out
}

// Wait waits until the agent of the pod at podIP reported, or ctx ends.
func (s *AgentServer) Wait(ctx context.Context, podIP string) (AgentReport, bool) {
	for {
		s.mu.Lock()
		r, ok := s.reports[podIP]
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return r, true
		}
		select {
		case <-ctx.Done():
			return AgentReport{}, false
		case <-changed:
		}
	}
}

// Connections counts the connections that sent a line or closed, from
// every address.
func (s *AgentServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Close stops accepting connections.
func (s *AgentServer) Close() error { return s.ln.Close() }
