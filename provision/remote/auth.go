package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// KeyFile is a private key (or, for certificates, a certificate) to offer, and where it was configured.
type KeyFile struct {
	Path string
	From string // for messages: "ssh.identity_files in inventory.toml", "/home/me/.ssh/config:12"
	// Optional keys are skipped when missing, as OpenSSH skips an IdentityFile of ssh_config that does not exist.
	Optional bool
}

// Keyring reads each private key once per run and builds the authentication offered to each server: the
// configured keys, each preceded by its certificate when one lies beside it (KEY-cert.pub) or is named by
// CertificateFile, then the ssh-agent's keys.
type Keyring struct {
	agent    []ssh.Signer // the agent's keys, certificates it holds included; nil without an agent
	useAgent bool

	mu   sync.Mutex
	keys map[string]*loadedKey
}

type loadedKey struct {
	signer ssh.Signer    // nil when the key is encrypted (then pub may be known from KEY.pub) or missing
	pub    ssh.PublicKey // the key's public half, for IdentitiesOnly and certificates
	err    error
}

// NewKeyring connects to the ssh-agent at agentSock ("" for none) and lists its keys. The returned func ends the
// agent connection.
func NewKeyring(agentSock string) (*Keyring, func(), error) {
	k := &Keyring{keys: map[string]*loadedKey{}}
	closeFn := func() {}
	if agentSock == "" {
		return k, closeFn, nil
	}
	conn, err := net.Dial("unix", agentSock)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to ssh-agent at %s: %w", agentSock, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("list ssh-agent keys: %w", err)
	}
	k.agent, k.useAgent = signers, true
	return k, func() { conn.Close() }, nil
}

func (k *Keyring) load(path string) *loadedKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l, ok := k.keys[path]; ok {
		return l
	}
	l := &loadedKey{}
	k.keys[path] = l
	data, err := os.ReadFile(path)
	if err != nil {
		l.err = err
		return l
	}
	l.signer, l.err = ssh.ParsePrivateKey(data)
	if l.signer != nil {
		l.pub = l.signer.PublicKey()
		return l
	}
	if pub, err := readPublicKey(path + ".pub"); err == nil {
		l.pub = pub
	}
	return l
}

func readPublicKey(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	return pub, err
}

// Auth returns what to offer a server: ids in order (each preceded by its certificates), then the agent's keys,
// only those matching one of ids when identitiesOnly is set (OpenSSH's IdentitiesOnly). An id that cannot be read
// is an error naming it and where it was configured, unless it is Optional and missing; an encrypted one is left to
// the agent when there is one.
func (k *Keyring) Auth(ids, certs []KeyFile, identitiesOnly bool) ([]ssh.AuthMethod, error) {
	var signers []ssh.Signer
	var pubs []ssh.PublicKey
	var parsedCerts []*ssh.Certificate
	for _, c := range certs {
		cert, err := readCertificate(c.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // OpenSSH skips a CertificateFile that does not exist
		}
		if err != nil {
			return nil, fmt.Errorf("certificate %s (%s): %w", c.Path, c.From, err)
		}
		parsedCerts = append(parsedCerts, cert)
	}
	withCerts := func(s ssh.Signer, beside string) ([]ssh.Signer, error) {
		var out []ssh.Signer
		if beside != "" {
			if cert, err := readCertificate(beside); err == nil {
				cs, err := ssh.NewCertSigner(cert, s)
				if err != nil {
					return nil, fmt.Errorf("certificate %s does not certify the key beside it: %w", beside, err)
				}
				out = append(out, cs)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("certificate %s: %w", beside, err)
			}
		}
		for _, cert := range parsedCerts {
			if bytes.Equal(cert.Key.Marshal(), s.PublicKey().Marshal()) {
				if cs, err := ssh.NewCertSigner(cert, s); err == nil {
					out = append(out, cs)
				}
			}
		}
		return append(out, s), nil
	}
	for _, id := range ids {
		l := k.load(id.Path)
		if l.pub != nil {
			pubs = append(pubs, l.pub)
		}
		switch {
		case l.signer != nil:
			ss, err := withCerts(l.signer, id.Path+"-cert.pub")
			if err != nil {
				return nil, err
			}
			signers = append(signers, ss...)
		case errors.Is(l.err, fs.ErrNotExist) && id.Optional:
		case errors.As(l.err, new(*ssh.PassphraseMissingError)):
			if !k.useAgent {
				return nil, fmt.Errorf("ssh key %s (%s) is encrypted: load it into ssh-agent (ssh-add) and set ssh.use_agent", id.Path, id.From)
			}
		case errors.Is(l.err, fs.ErrNotExist):
			return nil, fmt.Errorf("read ssh key %s (%s): %w", id.Path, id.From, l.err)
		default:
			return nil, fmt.Errorf("parse ssh key %s (%s): %w", id.Path, id.From, l.err)
		}
	}
	for _, s := range k.agent {
		pub := s.PublicKey()
		if identitiesOnly {
			key := pub
			if cert, ok := pub.(*ssh.Certificate); ok {
				key = cert.Key
			}
			if !containsKey(pubs, key) {
				continue
			}
		}
		if _, isCert := pub.(*ssh.Certificate); isCert {
			signers = append(signers, s)
			continue
		}
		ss, err := withCerts(s, "")
		if err != nil {
			return nil, err
		}
		signers = append(signers, ss...)
	}
	if len(signers) == 0 {
		return nil, errors.New("no ssh key to offer: set ssh.identity_files or ssh.use_agent in the inventory (or IdentityFile in ssh_config)")
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, nil
}

func containsKey(list []ssh.PublicKey, k ssh.PublicKey) bool {
	for _, x := range list {
		if bytes.Equal(x.Marshal(), k.Marshal()) {
			return true
		}
	}
	return false
}

func readCertificate(path string) (*ssh.Certificate, error) {
	pub, err := readPublicKey(path)
	if err != nil {
		return nil, err
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return nil, fmt.Errorf("%s holds a %s key, not a certificate", path, pub.Type())
	}
	return cert, nil
}
