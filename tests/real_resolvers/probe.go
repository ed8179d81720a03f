// One lookup of NAME with the pure-Go resolver (PreferGo, built with CGO_ENABLED=0):
// LookupIPAddr, or LookupIP(ctx, "ip4", NAME) when the second argument is "inet";
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
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: probe NAME [inet]")
		os.Exit(2)
	}
	resolver := &net.Resolver{PreferGo: true}
	var ips []net.IP
	var err error
	if len(os.Args) == 3 && os.Args[2] == "inet" {
		ips, err = resolver.LookupIP(context.Background(), "ip4", os.Args[1])
	} else {
		var addrs []net.IPAddr
		addrs, err = resolver.LookupIPAddr(context.Background(), os.Args[1])
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	out := map[string]interface{}{"rc": 0, "error": "", "addresses": []string{}}
	if err != nil {
		out["rc"] = 1
		out["error"] = err.Error()
	}
	texts := []string{}
	for _, ip := range ips {
		texts = append(texts, ip.String())
	}
	out["addresses"] = texts
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
