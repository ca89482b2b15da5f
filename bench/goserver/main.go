// goserver - a small net/http service for bench/run.sh: each request builds a
// few heap objects (a slice of records, a map, a JSON body), so the Go heap
// is busy the way a real service's is. It listens on 127.0.0.1 only, on the
// port given (0 = any free one), and prints "ready PID PORT" once serving.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
)

type record struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

func handler(w http.ResponseWriter, r *http.Request) {
	n := 8
	if s := r.URL.Query().Get("n"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 && v <= 1024 {
			n = v
		}
	}
	recs := make([]record, 0, n)
	for i := 0; i < n; i++ {
		recs = append(recs, record{
			ID:    i,
			Name:  "item-" + strconv.Itoa(i),
			Tags:  []string{"a", "b", strconv.Itoa(i % 7)},
			Attrs: map[string]string{"k": strconv.Itoa(i * 31)},
		})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(recs)
}

func main() {
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
	fmt.Printf("ready %d %d\n", os.Getpid(), ln.Addr().(*net.TCPAddr).Port)
	http.HandleFunc("/", handler)
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
}
