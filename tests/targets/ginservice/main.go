// ginservice - a Gin service with the leaks in our users' incident write-ups
// (Gin and net/http services), each behind an endpoint of its own so that a
// test drives exactly N of each, and a test-only endpoint with the runtime's
// own figures to compare memsight against.
//
//	ginservice ADDR      serve; prints "ready PID PORT" once listening
//
// Endpoints (GET):
//
//	/ctx      a middleware keeps the request's context (a gin.Context copy:
//	          the request, its headers, the keys) and a 16 KiB payload in a
//	          global slice
//	/spawn    the handler starts a goroutine that waits forever on a channel
//	/tick     wakes the timer goroutine, which loops on a select with
//	          time.After(1h): one more timer each round, alive until it fires
//	          (Go < 1.23 keeps it in the heap all that time)
//	/cache    stores 16 KiB under a new key in a map nothing ever evicts from
//	/stats    runtime.NumGoroutine, runtime.ReadMemStats, MemProfileRate,
//	          runtime.Version and the leak counters, read now (no GC first)
//	/gc       forces a GC, then the live heap (HeapAlloc just after it)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

const payloadSize = 16384

type keptRequest struct {
	ctx     *gin.Context
	payload []byte
}

var (
	mu      sync.Mutex
	kept    []keptRequest         // every /ctx request, forever
	cache   = map[string][]byte{} // every /cache entry, forever
	spawned int                   // goroutines /spawn started
	never   = make(chan struct{})
	ticks   = make(chan struct{})
	ticked  int // rounds of the timer loop, under mu
)

// keepContext is the middleware of the /ctx group: it keeps a copy of the
// request's context, and what it references, beyond the request.
func keepContext(c *gin.Context) {
	p := make([]byte, payloadSize)
	p[0] = 1
	mu.Lock()
	kept = append(kept, keptRequest{ctx: c.Copy(), payload: p})
	mu.Unlock()
	c.Next()
}

func ok(c *gin.Context) {
	c.String(http.StatusOK, "ok\n")
}

// spawnHandler starts a goroutine per request that nothing ever ends.
func spawnHandler(c *gin.Context) {
	mu.Lock()
	spawned++
	mu.Unlock()
	go waitForever() // GIN-SPAWN-GO-STATEMENT
	c.String(http.StatusOK, "ok\n")
}

func waitForever() {
	<-never
}

// timerLoop is the classic timer leak: each round makes a new one-hour
// timer; the older ones stay armed until they fire.
func timerLoop() {
	for {
		select {
		case <-ticks:
			mu.Lock()
			ticked++
			mu.Unlock()
		case <-time.After(time.Hour):
		}
	}
}

// tickHandler returns once the timer loop has taken the tick (an
// unbuffered send), so N requests are exactly N rounds.
func tickHandler(c *gin.Context) {
	ticks <- struct{}{}
	c.String(http.StatusOK, "ok\n")
}

func cacheHandler(c *gin.Context) {
	v := make([]byte, payloadSize)
	v[0] = 1
	mu.Lock()
	cache["k"+strconv.Itoa(len(cache))] = v
	mu.Unlock()
	c.String(http.StatusOK, "ok\n")
}

func statsHandler(c *gin.Context) {
	var m runtime.MemStats
	g := runtime.NumGoroutine()
	runtime.ReadMemStats(&m)
	mu.Lock()
	defer mu.Unlock()
	c.JSON(http.StatusOK, gin.H{
		"goroutines":    g,
		"heap_alloc":    m.HeapAlloc,
		"heap_inuse":    m.HeapInuse,
		"heap_idle":     m.HeapIdle,
		"heap_released": m.HeapReleased,
		"next_gc":       m.NextGC,
		"num_gc":        m.NumGC,
		"profile_rate":  runtime.MemProfileRate,
		"go_version":    runtime.Version(),
		"kept":          len(kept),
		"spawned":       spawned,
		"ticked":        ticked,
		"cached":        len(cache),
		"payload_bytes": payloadSize,
	})
}

func gcHandler(c *gin.Context) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	c.JSON(http.StatusOK, gin.H{"live_heap": m.HeapAlloc, "num_gc": m.NumGC})
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ginservice ADDR")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ginservice:", err)
		os.Exit(1)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/spawn", spawnHandler)
	r.GET("/tick", tickHandler)
	r.GET("/cache", cacheHandler)
	r.GET("/stats", statsHandler)
	r.GET("/gc", gcHandler)
	r.Group("/", keepContext).GET("/ctx", ok)
	go timerLoop() // GIN-TIMER-GO-STATEMENT
	fmt.Printf("ready %d %d\n", os.Getpid(), ln.Addr().(*net.TCPAddr).Port)
	if err := http.Serve(ln, r); err != nil {
		fmt.Fprintln(os.Stderr, "ginservice:", err)
		os.Exit(1)
	}
}
