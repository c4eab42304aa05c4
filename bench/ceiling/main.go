// Command ceiling is the bar bench/run.sh measures morimock against: bare net/http
// answering every request with one fixed order body, with the headers a JSON API
// sends and nothing else. Whatever morimock does on top (routing, validation,
// generation, encoding) shows as the distance from this server.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	bodyFile := flag.String("body", "", "file holding the body to answer with (required)")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	fmt.Printf("ceiling listening on http://%s with a %d-byte body\n", ln.Addr(), len(body))
	size := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", size)
		w.Write(body)
	})
	log.Fatal(http.Serve(ln, h))
}
