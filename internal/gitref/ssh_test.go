package gitref

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/gitref/gitserver"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshGit serves one repository's upload-pack over SSH with go-git's server, to one client key.
type sshGit struct {
	addr    string
	hostKey ssh.PublicKey
}

func newSSHGit(t *testing.T, repo *testRepo, clientKey ssh.PublicKey) *sshGit {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), clientKey.Marshal()) {
			return nil, nil
		}
		return nil, errUnknownKey
	}}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveSSH(c, cfg, repo)
		}
	}()
	return &sshGit{addr: l.Addr().String(), hostKey: signer.PublicKey()}
}

type sshErr string

func (e sshErr) Error() string { return string(e) }

const errUnknownKey = sshErr("unknown key")

func serveSSH(c net.Conn, cfg *ssh.ServerConfig, repo *testRepo) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range reqs {
				if req.Type != "exec" {
					_ = req.Reply(req.Type == "env", nil)
					continue
				}
				cmd := string(req.Payload[4:])
				_ = req.Reply(strings.HasPrefix(cmd, "git-upload-pack"), nil)
				status := uploadPack(ch, repo)
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
				return
			}
		}()
	}
}

// uploadPack speaks upload-pack (protocol v0) over one stream, as `git-upload-pack` does.
func uploadPack(ch ssh.Channel, repo *testRepo) uint32 {
	sess, err := server.NewServer(gitserver.LocalLoader{}).NewUploadPackSession(&transport.Endpoint{Path: repo.dir}, nil)
	if err != nil {
		return 1
	}
	ar, err := sess.AdvertisedReferences()
	if err != nil || ar.Encode(ch) != nil {
		return 1
	}
	req := packp.NewUploadPackRequest()
	if err := req.Decode(ch); err != nil {
		return 0 // a listing: the client sends a flush and leaves
	}
	resp, err := sess.UploadPack(context.Background(), req)
	if err != nil {
		return 1
	}
	defer resp.Close()
	if resp.Encode(ch) != nil {
		return 1
	}
	return 0
}

func TestResolveOverSSH(t *testing.T) {
	f := newFixture(t)
	m := newSSHMaterial(t)
	block, _ := ssh.ParsePrivateKey(m.key)
	srv := newSSHGit(t, f.repo, block.PublicKey())
	url := "ssh://git@" + srv.addr + "/acme/apps.git"
	host := knownhosts.Normalize(srv.addr)
	known := []byte(knownhosts.Line([]string{host}, srv.hostKey) + "\n")
	wrongHost := []byte(knownhosts.Line([]string{host}, m.hostKey) + "\n")

	creds := func(data map[string][]byte) Credentials {
		t.Helper()
		c, err := CredentialsFromSecret(data)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r := NewResolver(Options{})
	got, err := r.Resolve(context.Background(), url, creds(map[string][]byte{"identity": m.key, "known_hosts": known}), "v1.0.0")
	if err != nil || got.Commit != f.c1 {
		t.Fatalf("Resolve over SSH = %+v, %v; want %s", got, err, f.c1)
	}
	got, err = r.Resolve(context.Background(), url, creds(map[string][]byte{"identity": m.encrypted, "password": []byte("s3cret"), "insecure-ignore-host-key": []byte("true")}), "main")
	if err != nil || got.Commit != f.c3 {
		t.Fatalf("Resolve over SSH, host key unchecked = %+v, %v; want %s", got, err, f.c3)
	}

	_, err = r.Resolve(context.Background(), url, creds(map[string][]byte{"identity": m.key, "known_hosts": wrongHost}), "main")
	if !IsAuthError(err) || IsTransient(err) {
		t.Errorf("a host key other than known_hosts': %v, want an auth error", err)
	}
	other := newSSHMaterial(t)
	_, err = r.Resolve(context.Background(), url, creds(map[string][]byte{"identity": other.key, "known_hosts": known}), "main")
	if !IsAuthError(err) || IsTransient(err) {
		t.Errorf("a key the server refuses: %v, want an auth error", err)
	}
}
