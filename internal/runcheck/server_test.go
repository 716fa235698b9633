package runcheck

import (
	"context"
	"net"
	"testing"
	"time"
)

// An agent that connects and speaks only after a while (its own start-up,
// a loaded machine) is heard within the run's time: the first bytes are
// not cut off after a fixed 2 s.
func TestFirstBytesWaitsWithinTheRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(ln, time.Now().Add(20*time.Second))
	defer srv.close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	<-srv.connected
	go func() {
		time.Sleep(3 * time.Second)
		conn.Write([]byte("JENNIFER domain_id=7\n"))
	}()
	if got := string(srv.firstBytes(context.Background())); got != "JENNIFER domain_id=7\n" {
		t.Errorf("first bytes %q, want the line sent after 3 s", got)
	}

	// The run's end bounds the wait.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2 := serve(ln2, time.Now().Add(500*time.Millisecond))
	defer srv2.close()
	silent, err := net.Dial("tcp", ln2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	if got := srv2.firstBytes(context.Background()); len(got) != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("a silent agent: %q after %s, want nothing by the run's end", got, time.Since(start))
	}
}
