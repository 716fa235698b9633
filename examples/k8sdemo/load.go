package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// load sends GET requests to url with workers concurrent clients until ctx
// ends (the caller bounds it), each on a new connection, so kube-proxy
// spreads them over the Service's endpoints, the pods the HPA adds
// included. It counts answers and errors.
type load struct {
	ok, failed atomic.Int64
	wg         sync.WaitGroup
}

func startLoad(ctx context.Context, client *http.Client, url string, workers int) *load {
	l := &load{}
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := client.Do(req)
				if err != nil {
					l.failed.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					l.ok.Add(1)
				} else {
					l.failed.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) wait() { l.wg.Wait() }
