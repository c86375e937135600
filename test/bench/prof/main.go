// Command prof is fleetctl with profiles, for the benchmark: the same CLI as cmd/fleetctl, writing a CPU profile, the
// heap profile taken when the heap in use peaked, and the allocation profile to the folder BENCH_PPROF_DIR names
// (cpu.pprof, heap-peak.pprof, allocs.pprof). Read them with `go tool pprof -top fleetctl-prof FILE`. The timed runs
// of test/bench/run use the plain fleetctl; this binary runs once more beside them so the figures stay unprofiled.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/fleetctl/fleetctl/cmd/fleetctl/cli"
)

func main() {
	dir := os.Getenv("BENCH_PPROF_DIR")
	if dir == "" {
		fmt.Fprintln(os.Stderr, "prof: set BENCH_PPROF_DIR to the folder for the profiles")
		os.Exit(2)
	}
	stop, err := start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(2)
	}
	io := cli.StdIO(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	io.Signals = sigs
	rc := cli.Run(context.Background(), os.Args, io)
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
	}
	os.Exit(rc)
}

// start begins the CPU profile and a sampler that keeps the heap profile of the largest heap in use seen (every
// 200 ms); stop ends both and writes the profiles.
func start(dir string) (func() error, error) {
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("create the CPU profile in %s: %w", dir, err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return nil, fmt.Errorf("start the CPU profile: %w", err)
	}
	done := make(chan struct{})
	sampled := make(chan error, 1)
	go func() { sampled <- samplePeak(filepath.Join(dir, "heap-peak.pprof"), done) }()
	return func() error {
		pprof.StopCPUProfile()
		close(done)
		errs := []error{cpu.Close(), <-sampled, write(filepath.Join(dir, "allocs.pprof"), "allocs")}
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	}, nil
}

func samplePeak(path string, done <-chan struct{}) error {
	var peak uint64
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak {
			peak = ms.HeapInuse
			if err := write(path, "heap"); err != nil {
				return err
			}
		}
		select {
		case <-done:
			return nil
		case <-tick.C:
		}
	}
}

func write(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write the %s profile to %s: %w", name, path, err)
	}
	return f.Close()
}
