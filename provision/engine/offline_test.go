package engine

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
)

// offlineBuilder has no host resources to give (it is never asked: no host answers) and server resources for
// hosts it cannot reach.
type offlineBuilder struct {
	applied *atomic.Int32
}

func (offlineBuilder) Query(Host) system.Query { return system.Query{} }
func (offlineBuilder) Resources(context.Context, Host, *remote.Conn, *system.Facts) ([]Declared, error) {
	return nil, nil
}
func (b offlineBuilder) Offline(_ context.Context, h Host) ([]Declared, error) {
	return servers(countingRes{fakeRes: fileRes("server-side", plan.Delete), n: b.applied}), nil
}

type countingRes struct {
	fakeRes
	n *atomic.Int32
}

func (c countingRes) Apply(context.Context, []plan.Change) error { c.n.Add(1); return nil }

// A builder that can plan an unreachable host's servers' side gets it planned and applied, with the host side said
// to be skipped in the plan and the outcome; an ordinary builder's unreachable host fails as before.
func TestUnreachableHostGetsItsServersSide(t *testing.T) {
	ip, port := refusedAddr(t)
	ssh := remote.Config{HostKeys: &remote.HostKeys{Path: t.TempDir() + "/known_hosts"}}
	var applied atomic.Int32
	e := &Engine{Forks: 1, Masker: secret.NewMasker(), SSH: ssh, Builder: offlineBuilder{applied: &applied}}
	run := e.Plan(context.Background(), []Host{{Name: "web1", Address: ip, Port: port}}, Rollout{})
	defer run.Close()
	hp := run.Plan.Hosts[0]
	if hp.Error != "" || !strings.Contains(hp.HostSkipped, "the host side was skipped") || !strings.Contains(hp.HostSkipped, "connect to") {
		t.Fatalf("plan: %+v", hp)
	}
	if got := addresses(hp); strings.Join(got, " ") != "web1/host:ssh web1/file:server-side" || hp.Changes[0].Action != plan.Report {
		t.Fatalf("changes %v", got)
	}
	rep := run.Apply(context.Background(), Rollout{})
	if h := rep.Hosts[0]; h.Error != "" || h.HostSkipped != hp.HostSkipped || len(h.Applied) != 1 || applied.Load() != 1 {
		t.Fatalf("outcome %+v, applied %d", h, applied.Load())
	}

	plain := &Engine{Forks: 1, Masker: secret.NewMasker(), SSH: ssh, Builder: plainBuilder{}}
	run2 := plain.Plan(context.Background(), []Host{{Name: "web1", Address: ip, Port: port}}, Rollout{})
	defer run2.Close()
	if hp := run2.Plan.Hosts[0]; !strings.Contains(hp.Error, "connect to") || hp.HostSkipped != "" || len(hp.Changes) != 0 {
		t.Fatalf("an ordinary builder's unreachable host: %+v", hp)
	}
}

type plainBuilder struct{}

func (plainBuilder) Query(Host) system.Query { return system.Query{} }
func (plainBuilder) Resources(context.Context, Host, *remote.Conn, *system.Facts) ([]Declared, error) {
	return nil, nil
}
