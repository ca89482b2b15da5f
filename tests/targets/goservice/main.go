// goservice - the Go test target: a net/http service with the two leaks our
// users write about most, and a test-only endpoint with the runtime's own
// figures to compare memsight against.
//
//	goservice ADDR            serve; prints "ready PID" once listening
//	goservice -stress SECS    deep recursion in many goroutines (stack growth), then exit
//	goservice -morestack N    on SIGUSR1: N goroutines, the i-th i%600 calls deep, each
//	                          keeping one 16 KiB buffer (MemProfileRate 1: every
//	                          allocation sampled); prints "done N"
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	mu     sync.Mutex
	leaked [][]byte // every request's 4 KiB, kept forever
	never  = make(chan struct{})
)

// leakHandler keeps 4 KiB per request in a global slice and starts a
// goroutine per request that never ends.
func leakHandler(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 4096)
	buf[0] = 1
	mu.Lock()
	leaked = append(leaked, buf)
	mu.Unlock()
	go waitForever() // GOSERVICE-GO-STATEMENT
	fmt.Fprintln(w, "ok")
}

func waitForever() {
	<-never
}

// statsHandler reports what the runtime itself says, after a GC so the
// figures are settled.
func statsHandler(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	json.NewEncoder(w).Encode(map[string]uint64{
		"goroutines":    uint64(runtime.NumGoroutine()),
		"heap_alloc":    m.HeapAlloc,
		"heap_inuse":    m.HeapInuse,
		"heap_idle":     m.HeapIdle,
		"heap_released": m.HeapReleased,
		"next_gc":       m.NextGC,
		"num_gc":        uint64(m.NumGC),
		"leaked":        uint64(len(leaked)),
		"profile_rate":  uint64(runtime.MemProfileRate),
	})
}

func recurse(depth int) int {
	var pad [64]byte // grows the stack: the runtime copies it as it grows
	pad[depth%64] = byte(depth)
	if depth == 0 {
		b := make([]byte, 256+int(pad[0]))
		return len(b)
	}
	return recurse(depth-1) + int(pad[depth%64]&1)
}

func stress(secs int) {
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				recurse(100 + (n*37+i)%2000)
			}
		}(i)
	}
	wg.Wait()
	fmt.Println("stress done")
}

var kept [][]byte

//go:noinline
func morestackLeaf() []byte {
	return make([]byte, 16384)
}

// down calls itself d times, then allocates: over the goroutines' depths
// 0..599, some allocation's profiling call (runtime.mProf_Malloc) is the one
// that finds the goroutine's first stack full, and runs again once it grew.
func down(d int) []byte {
	if d == 0 {
		return morestackLeaf()
	}
	return down(d - 1)
}

func morestack(n int) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	fmt.Printf("ready %d\n", os.Getpid())
	<-usr1
	for i := 0; i < n; i++ {
		c := make(chan []byte)
		go func(d int) { c <- down(d) }(i % 600)
		kept = append(kept, <-c)
	}
	fmt.Printf("done %d\n", len(kept))
	<-usr1
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-morestack" {
		runtime.MemProfileRate = 1
		n, _ := strconv.Atoi(os.Args[2])
		morestack(n)
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-stress" {
		secs, _ := strconv.Atoi(os.Args[2])
		fmt.Printf("ready %d\n", os.Getpid())
		stress(secs)
		return
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.HandleFunc("/leak", leakHandler)
	http.HandleFunc("/stats", statsHandler)
	fmt.Printf("ready %d\n", os.Getpid())
	http.Serve(ln, nil)
}
