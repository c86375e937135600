package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Endpoint is one SSH server to log in to: a host of the fleet, or a jump host on the way to one.
type Endpoint struct {
	Name     string           // for messages: the inventory name of a host, the jump host as written for a hop
	Addr     string           // host:port to connect to
	User     string           // "": Config.User
	Auth     []ssh.AuthMethod // nil: Config.Auth
	HostKeys *HostKeys        // nil: Config.HostKeys
	// Via lists the jump hosts (OpenSSH's ProxyJump) in the order they are dialed: the first is reached directly,
	// each next one through a channel of the previous one, and the endpoint through the last.
	Via []Endpoint
}

func (ep Endpoint) user(cfg Config) string {
	if ep.User != "" {
		return ep.User
	}
	return cfg.User
}

// Jumps holds a run's connections to jump hosts, one per chain of hops: every host behind the same chain shares its
// connection (a direct-tcpip channel per host, not a login per host). Close ends them all.
type Jumps struct {
	mu     sync.Mutex
	conns  map[string]*jump
	logins atomic.Int64
}

type jump struct {
	ready  chan struct{}
	client *ssh.Client
	err    error
}

// NewJumps returns an empty pool.
func NewJumps() *Jumps { return &Jumps{conns: map[string]*jump{}} }

// Logins is how many jump host logins the pool has made.
func (j *Jumps) Logins() int64 { return j.logins.Load() }

// Close ends every jump connection (and with them every connection through them).
func (j *Jumps) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, c := range j.conns {
		select {
		case <-c.ready:
			if c.client != nil {
				c.client.Close()
			}
		default:
		}
		delete(j.conns, k)
	}
	return nil
}

func chainKey(chain []Endpoint, cfg Config) string {
	parts := make([]string, len(chain))
	for i, h := range chain {
		parts[i] = h.user(cfg) + "@" + h.Addr
	}
	return strings.Join(parts, ",")
}

// client returns the connection to the last hop of chain, dialing it (and the hops before it) once per run.
func (j *Jumps) client(ctx context.Context, chain []Endpoint, cfg Config) (*ssh.Client, error) {
	key := chainKey(chain, cfg)
	for {
		j.mu.Lock()
		e, ok := j.conns[key]
		if !ok {
			e = &jump{ready: make(chan struct{})}
			j.conns[key] = e
			j.mu.Unlock()
			e.client, e.err = j.dial(ctx, chain, cfg)
			j.mu.Lock()
			if e.err != nil && ctx.Err() != nil {
				// This caller gave up: its cancellation says nothing about the jump host, so forget it.
				delete(j.conns, key)
			}
			j.mu.Unlock()
			close(e.ready)
			if e.client != nil {
				go func(c *ssh.Client) {
					_ = c.Wait() // a jump connection that dies is dialed again by the next host that needs it
					j.mu.Lock()
					if j.conns[key] == e {
						delete(j.conns, key)
					}
					j.mu.Unlock()
				}(e.client)
			}
			return e.client, e.err
		}
		j.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue // another caller's cancellation: try for ourselves
		}
		return e.client, e.err
	}
}

func (j *Jumps) dial(ctx context.Context, chain []Endpoint, cfg Config) (*ssh.Client, error) {
	last := chain[len(chain)-1]
	last.Via = chain[:len(chain)-1]
	c, err := dialVia(ctx, last, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s (hop %d of the ProxyJump chain %s): %w", last.Name, len(chain), chainKey(chain, cfg), err)
	}
	j.logins.Add(1)
	return c, nil
}

// dialVia connects to ep, directly or through its jump hosts, and logs in.
func dialVia(ctx context.Context, ep Endpoint, cfg Config) (*ssh.Client, error) {
	if len(ep.Via) > 0 {
		if cfg.Jumps == nil {
			return nil, fmt.Errorf("%s is behind jump hosts and the run has no pool of jump connections", ep.Name)
		}
		jc, err := cfg.Jumps.client(ctx, ep.Via, cfg)
		if err != nil {
			return nil, err
		}
		dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
		nc, err := jc.DialContext(dctx, "tcp", ep.Addr)
		if err != nil {
			return nil, fmt.Errorf("connect to %s through jump host %s: %w", ep.Addr, ep.Via[len(ep.Via)-1].Name, err)
		}
		return handshake(ctx, dctx, nc, ep, cfg)
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", ep.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", ep.Addr, err)
	}
	return handshake(ctx, dctx, nc, ep, cfg)
}

// handshake runs the SSH handshake over nc, bounded by dctx, verifying the host key.
func handshake(ctx, dctx context.Context, nc net.Conn, ep Endpoint, cfg Config) (*ssh.Client, error) {
	// The handshake has no context: a deadline on the socket bounds it (a channel through a jump host has none),
	// and closing the socket ends it on cancel.
	deadline, _ := dctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { nc.Close() })
	keys := cfg.HostKeys
	if ep.HostKeys != nil {
		keys = ep.HostKeys
	}
	auth := cfg.Auth
	if ep.Auth != nil {
		auth = ep.Auth
	}
	user := ep.user(cfg)
	hk := keys.Callback(ep.Name)
	cc, chans, reqs, err := ssh.NewClientConn(nc, ep.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: hk.check,
		Timeout:         cfg.ConnectTimeout,
	})
	stop()
	if err != nil {
		nc.Close()
		if hk.err != nil {
			return nil, hk.err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh handshake with %s: %w", ep.Addr, ctx.Err())
		}
		if dctx.Err() != nil {
			return nil, fmt.Errorf("ssh handshake with %s: no answer within %s", ep.Addr, cfg.ConnectTimeout)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("ssh login as %q on %s refused: is the key in ~%s/.ssh/authorized_keys? (%w)", user, ep.Addr, user, err)
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", ep.Addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(cc, chans, reqs), nil
}
