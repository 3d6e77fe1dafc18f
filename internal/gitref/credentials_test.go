package gitref

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

type sshMaterial struct {
	key, encrypted []byte // PEM private keys (the second with passphrase "s3cret")
	hostKey        ssh.PublicKey
	otherHostKey   ssh.PublicKey
	knownHosts     []byte // example.com with hostKey
}

func newSSHMaterial(t *testing.T) sshMaterial {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	hostKey := func() ssh.PublicKey {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	m := sshMaterial{key: pem.EncodeToMemory(block), encrypted: pem.EncodeToMemory(enc), hostKey: hostKey(), otherHostKey: hostKey()}
	m.knownHosts = []byte("# comment\n" + knownhosts.Line([]string{"example.com"}, m.hostKey) + "\n")
	return m
}

func sshCredsForTest(t *testing.T) Credentials {
	m := newSSHMaterial(t)
	c, err := CredentialsFromSecret(map[string][]byte{"identity": m.key, "known_hosts": m.knownHosts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentialsFromSecret(t *testing.T) {
	m := newSSHMaterial(t)
	b := func(s string) []byte { return []byte(s) }
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name    string
		data    map[string][]byte
		want    string // Credentials.String()
		wantKey string // the key the error names; empty: no error
	}{
		{"nil", nil, "anonymous", ""},
		{"empty", map[string][]byte{}, "anonymous", ""},
		{"unrelated keys ignored", map[string][]byte{"identity.pub": b("ssh-ed25519 AAAA")}, "anonymous", ""},
		{"token", map[string][]byte{"token": b("ghp_x\n")}, "basic auth as x-access-token", ""},
		{"token and username", map[string][]byte{"token": b("glpat-x"), "username": b("oauth2")}, "basic auth as oauth2", ""},
		{"username and password", map[string][]byte{"username": b("bot"), "password": b("pw")}, "basic auth as bot", ""},
		{"bearer token", map[string][]byte{"bearerToken": b("abc")}, "bearer token", ""},
		{"ca bundle alone", map[string][]byte{"ca.crt": b(ca)}, "anonymous", ""},
		{"token with ca bundle", map[string][]byte{"token": b("t"), "ca.crt": b(ca)}, "basic auth as x-access-token", ""},
		{"identity with known_hosts", map[string][]byte{"identity": m.key, "known_hosts": m.knownHosts}, "SSH key", ""},
		{"ssh-privatekey with known_hosts", map[string][]byte{"ssh-privatekey": m.key, "known_hosts": m.knownHosts}, "SSH key", ""},
		{"identity and insecure", map[string][]byte{"identity": m.key, "insecure-ignore-host-key": b("true")}, "SSH key", ""},
		{"encrypted identity with password", map[string][]byte{"identity": m.encrypted, "password": b("s3cret"), "known_hosts": m.knownHosts}, "SSH key", ""},
		{"identity with username", map[string][]byte{"identity": m.key, "username": b("deploy"), "known_hosts": m.knownHosts}, "SSH key", ""},

		{"empty token", map[string][]byte{"token": b("")}, "", "token"},
		{"token and password", map[string][]byte{"token": b("t"), "password": b("p")}, "", "token"},
		{"password alone", map[string][]byte{"password": b("p")}, "", "username"},
		{"username alone", map[string][]byte{"username": b("u")}, "", "password"},
		{"empty username", map[string][]byte{"username": b(""), "password": b("p")}, "", "username"},
		{"empty password", map[string][]byte{"username": b("u"), "password": b("\n")}, "", "password"},
		{"bearer and token", map[string][]byte{"bearerToken": b("a"), "token": b("t")}, "", "bearerToken"},
		{"bearer and username", map[string][]byte{"bearerToken": b("a"), "username": b("u")}, "", "bearerToken"},
		{"empty bearer", map[string][]byte{"bearerToken": nil}, "", "bearerToken"},
		{"bad ca bundle", map[string][]byte{"token": b("t"), "ca.crt": b("not pem")}, "", "ca.crt"},
		{"known_hosts without key", map[string][]byte{"token": b("t"), "known_hosts": m.knownHosts}, "", "known_hosts"},
		{"insecure without key", map[string][]byte{"insecure-ignore-host-key": b("true")}, "", "insecure-ignore-host-key"},
		{"identity and ssh-privatekey", map[string][]byte{"identity": m.key, "ssh-privatekey": m.key, "known_hosts": m.knownHosts}, "", "ssh-privatekey"},
		{"identity without known_hosts", map[string][]byte{"identity": m.key}, "", "known_hosts"},
		{"identity, insecure false", map[string][]byte{"identity": m.key, "insecure-ignore-host-key": b("false")}, "", "known_hosts"},
		{"identity, insecure junk", map[string][]byte{"identity": m.key, "insecure-ignore-host-key": b("yes please")}, "", "insecure-ignore-host-key"},
		{"identity, insecure and known_hosts", map[string][]byte{"identity": m.key, "insecure-ignore-host-key": b("true"), "known_hosts": m.knownHosts}, "", "insecure-ignore-host-key"},
		{"empty identity", map[string][]byte{"identity": b("\n"), "known_hosts": m.knownHosts}, "", "identity"},
		{"junk identity", map[string][]byte{"identity": b("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n"), "known_hosts": m.knownHosts}, "", "identity"},
		{"junk ssh-privatekey", map[string][]byte{"ssh-privatekey": b("hello"), "known_hosts": m.knownHosts}, "", "ssh-privatekey"},
		{"encrypted identity without password", map[string][]byte{"identity": m.encrypted, "known_hosts": m.knownHosts}, "", "password"},
		{"encrypted identity, wrong password", map[string][]byte{"identity": m.encrypted, "password": b("nope"), "known_hosts": m.knownHosts}, "", "password"},
		{"junk known_hosts", map[string][]byte{"identity": m.key, "known_hosts": b("example.com ssh-ed25519 !!!")}, "", "known_hosts"},
		{"comment-only known_hosts", map[string][]byte{"identity": m.key, "known_hosts": b("# nothing\n\n")}, "", "known_hosts"},
		{"identity and token", map[string][]byte{"identity": m.key, "token": b("t"), "known_hosts": m.knownHosts}, "", "token"},
		{"identity and bearer", map[string][]byte{"identity": m.key, "bearerToken": b("t"), "known_hosts": m.knownHosts}, "", "bearerToken"},
		{"identity and ca.crt", map[string][]byte{"identity": m.key, "ca.crt": b(ca), "known_hosts": m.knownHosts}, "", "ca.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CredentialsFromSecret(tt.data)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if c.String() != tt.want {
					t.Errorf("credentials = %s, want %s", c, tt.want)
				}
				return
			}
			var ce *CredentialsError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CredentialsError naming key %s", err, tt.wantKey)
			}
			if ce.Key != tt.wantKey || !strings.Contains(err.Error(), "key "+tt.wantKey+" ") {
				t.Errorf("err = %q names key %q, want %q", err, ce.Key, tt.wantKey)
			}
			if !IsAuthError(err) || !IsInvalid(err) || IsTransient(err) {
				t.Errorf("err = %v: want an auth and invalid error", err)
			}
			for k, v := range tt.data {
				if k == KeyInsecureIgnoreHostKey || k == KeyUsername || k == KeyKnownHosts {
					continue // not secret
				}
				if len(v) > 3 && strings.Contains(err.Error(), string(v)) {
					t.Errorf("error %q shows a secret value", err)
				}
			}
		})
	}
}

func TestCredentialsIdentity(t *testing.T) {
	id := func(data map[string][]byte) string {
		c, err := CredentialsFromSecret(data)
		if err != nil {
			t.Fatal(err)
		}
		return c.Identity()
	}
	a := id(map[string][]byte{"token": []byte("a")})
	if a == "" || a != id(map[string][]byte{"token": []byte("a")}) {
		t.Errorf("identity not stable: %q", a)
	}
	if a == id(map[string][]byte{"token": []byte("b")}) || a == id(map[string][]byte{"token": []byte("a"), "username": []byte("u")}) {
		t.Error("different Secrets share an identity")
	}
	if strings.Contains(a, "a") && len(a) < 8 {
		t.Errorf("identity %q looks like the secret", a)
	}
	if id(nil) != "" {
		t.Error("anonymous credentials have an identity")
	}
}

func TestAuthMethods(t *testing.T) {
	ep := func(u string) *transport.Endpoint {
		e, err := transport.NewEndpoint(u)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	basic, _ := CredentialsFromSecret(map[string][]byte{"token": []byte("tok")})
	auth, err := basic.authFor(ep("https://github.com/acme/apps.git"))
	if ba, ok := auth.(*githttp.BasicAuth); err != nil || !ok || ba.Username != DefaultTokenUsername || ba.Password != "tok" {
		t.Errorf("token auth = %#v, %v", auth, err)
	}
	bearer, _ := CredentialsFromSecret(map[string][]byte{"bearerToken": []byte("tok")})
	auth, err = bearer.authFor(ep("https://dev.azure.com/acme/_git/apps"))
	if ta, ok := auth.(*githttp.TokenAuth); err != nil || !ok || ta.Token != "tok" {
		t.Errorf("bearer auth = %#v, %v", auth, err)
	}
	if auth, err := basic.authFor(ep("file:///tmp/x")); auth != nil || err != nil {
		t.Errorf("file URLs take no credentials: %v, %v", auth, err)
	}

	m := newSSHMaterial(t)
	sshc, err := CredentialsFromSecret(map[string][]byte{"identity": m.key, "known_hosts": m.knownHosts})
	if err != nil {
		t.Fatal(err)
	}
	auth, err = sshc.authFor(ep("git@example.com:acme/apps.git"))
	pk, ok := auth.(*gitssh.PublicKeys)
	if err != nil || !ok {
		t.Fatalf("ssh auth = %#v, %v", auth, err)
	}
	if pk.User != "git" {
		t.Errorf("ssh user = %q, want the URL's git", pk.User)
	}
	if len(pk.HostKeyAlgorithms) == 0 || pk.HostKeyAlgorithms[0] != ssh.KeyAlgoED25519 {
		t.Errorf("host key algorithms = %v, want those of the known key", pk.HostKeyAlgorithms)
	}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
	if err := pk.HostKeyCallback("example.com:22", remote, m.hostKey); err != nil {
		t.Errorf("the known host key is refused: %v", err)
	}
	err = pk.HostKeyCallback("example.com:22", remote, m.otherHostKey)
	if err == nil || classify(err) != ReasonAuth {
		t.Errorf("another host key: %v, want refused as an auth failure", err)
	}
	err = pk.HostKeyCallback("unknown.example.org:22", remote, m.hostKey)
	if err == nil || classify(err) != ReasonAuth {
		t.Errorf("an unknown host: %v, want refused as an auth failure", err)
	}

	deploy, _ := CredentialsFromSecret(map[string][]byte{"identity": m.key, "username": []byte("deploy"), "insecure-ignore-host-key": []byte("true")})
	auth, err = deploy.authFor(ep("ssh://example.com:2222/acme/apps.git"))
	if pk, ok := auth.(*gitssh.PublicKeys); err != nil || !ok || pk.User != "deploy" || pk.HostKeyCallback("x:1", remote, m.otherHostKey) != nil {
		t.Errorf("insecure ssh auth = %#v, %v", auth, err)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Reason
	}{
		{transport.ErrRepositoryNotFound, ReasonRepositoryNotFound},
		{transport.ErrAuthenticationRequired, ReasonAuth},
		{transport.ErrAuthorizationFailed, ReasonAuth},
		{errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]"), ReasonAuth},
		{errors.New("dial tcp: connection refused"), ReasonUnreachable},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func FuzzCredentialsFromSecret(f *testing.F) {
	f.Add("token", "t", "username", "u")
	f.Add("identity", "-----BEGIN OPENSSH PRIVATE KEY-----\n", "known_hosts", "h ssh-ed25519 AAAA")
	f.Add("ssh-privatekey", "", "insecure-ignore-host-key", "true")
	f.Add("password", "p", "bearerToken", "b")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		c, err := CredentialsFromSecret(map[string][]byte{k1: []byte(v1), k2: []byte(v2)})
		if err != nil {
			var ce *CredentialsError
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("err = %v, not naming a key", err)
			}
			return
		}
		_ = c.String()
	})
}
