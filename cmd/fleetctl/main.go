package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fleetctl/fleetctl/cmd/fleetctl/cli"
)

func main() {
	io := cli.StdIO(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	io.Signals = sigs
	os.Exit(cli.Run(context.Background(), os.Args, io))
}
