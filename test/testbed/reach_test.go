package testbed_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// TestBastionIsTheOnlyWay: the hosts behind the bastion answer through it (login, sudo, their own name), and the bed
// machine cannot reach them directly: the connection is refused by the route at once, nothing leaves the machine.
func TestBastionIsTheOnlyWay(t *testing.T) {
	bed := testbed.Require(t)
	if bed.Bastion == nil || len(bed.Bastion.Hosts) < 2 {
		t.Fatalf("want a bastion with hosts behind it, got %+v", bed.Bastion)
	}
	for _, h := range bed.Bastion.Hosts {
		if got := strings.TrimSpace(bed.Run(t, h, "sudo -n true && hostname")); got != h.Name {
			t.Errorf("%s through %s: hostname %q", h.Name, h.Jump, got)
		}
		start := time.Now()
		c, err := net.DialTimeout("tcp", h.Addr(), 5*time.Second)
		if err == nil {
			c.Close()
			t.Errorf("%s (%s) is reachable without the bastion", h.Name, h.Addr())
		} else if time.Since(start) > 2*time.Second {
			t.Errorf("%s: a direct connection took %s to fail (%v): it should be refused at once", h.Name, time.Since(start), err)
		}
	}
	b := testbed.Host{Name: bed.Bastion.Name, Address: bed.Bastion.Address, Port: bed.Bastion.Port}
	if got := bed.Run(t, b, "ip -4 -o addr"); !strings.Contains(got, " "+bed.Bastion.InnerAddress+"/") {
		t.Errorf("the bastion has no address %s behind it:\n%s", bed.Bastion.InnerAddress, got)
	}
}

// TestCertificateHosts: each certificate host presents a host certificate signed by the bed's host CA (for its
// address), lets the certificate user in, and refuses the bed's plain key, which it has no authorized_keys line for.
func TestCertificateHosts(t *testing.T) {
	bed := testbed.Require(t)
	if bed.Certs == nil || len(bed.Certs.Hosts) == 0 {
		t.Fatalf("want certificate hosts, got %+v", bed.Certs)
	}
	for _, h := range bed.Certs.Hosts {
		if got := strings.TrimSpace(bed.Run(t, h, "sudo -n true && hostname")); got != h.Name {
			t.Errorf("%s: hostname %q", h.Name, got)
		}
		cfg, err := bed.ClientConfig(bed.SSH.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		var offered ssh.PublicKey
		check := cfg.HostKeyCallback
		cfg.HostKeyCallback = func(addr string, remote net.Addr, key ssh.PublicKey) error {
			offered = key
			return check(addr, remote, key)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		client, err := testbed.DialConfig(ctx, h.Addr(), cfg)
		cancel()
		if err == nil {
			client.Close()
			t.Errorf("%s let the bed's plain key in", h.Name)
		} else if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: want an authentication refusal, got %v", h.Name, err)
		}
		cert, ok := offered.(*ssh.Certificate)
		if !ok || cert.CertType != ssh.HostCert || !containsString(cert.ValidPrincipals, h.Address) {
			t.Errorf("%s: offered %T %v, want a host certificate for %s", h.Name, offered, offered, h.Address)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
