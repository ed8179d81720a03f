// One lookup of NAME with the pure-Go resolver (PreferGo, built with CGO_ENABLED=0);
// prints the outcome as JSON.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: probe NAME")
		os.Exit(2)
	}
	resolver := &net.Resolver{PreferGo: true}
	addrs, err := resolver.LookupIPAddr(context.Background(), os.Args[1])
	out := map[string]interface{}{"rc": 0, "error": "", "addresses": []string{}}
	if err != nil {
		out["rc"] = 1
		out["error"] = err.Error()
	}
	texts := []string{}
	for _, a := range addrs {
		texts = append(texts, a.IP.String())
	}
	out["addresses"] = texts
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
