package gitref

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Keys of a credentials Secret. They follow Flux's GitRepository Secret where the two overlap.
const (
	// KeyUsername is the HTTPS basic-auth user, or the SSH user (default: the URL's user, else "git").
	KeyUsername = "username"
	// KeyPassword is the HTTPS basic-auth password, or the passphrase of an encrypted SSH key.
	KeyPassword = "password"
	// KeyToken is an HTTPS access token sent as the basic-auth password, with KeyUsername or
	// "x-access-token" (GitHub, Gitea; GitLab and Bitbucket accept any user name with a token).
	KeyToken = "token"
	// KeyBearerToken is an HTTPS token sent as "Authorization: Bearer".
	KeyBearerToken = "bearerToken"
	// KeyIdentity is an SSH private key (PEM or OpenSSH format).
	KeyIdentity = "identity"
	// KeySSHPrivateKey is the SSH private key of a kubernetes.io/ssh-auth Secret; same as KeyIdentity.
	KeySSHPrivateKey = "ssh-privatekey"
	// KeyKnownHosts holds the server's host keys in known_hosts format; required with an SSH key.
	KeyKnownHosts = "known_hosts"
	// KeyInsecureIgnoreHostKey set to "true" accepts any SSH host key when no known_hosts is given.
	KeyInsecureIgnoreHostKey = "insecure-ignore-host-key"
	// KeyCABundle is an additional PEM CA bundle trusted for HTTPS.
	KeyCABundle = "ca.crt"
)

// DefaultTokenUsername is the user name sent with KeyToken when the Secret has no KeyUsername.
const DefaultTokenUsername = "x-access-token"

type credKind int

const (
	credNone credKind = iota
	credBasic
	credBearer
	credSSH
)

// Credentials authenticate to a repository. The zero value is anonymous access.
type Credentials struct {
	kind     credKind
	username string
	password string // basic-auth password or token, or bearer token
	signer   ssh.Signer
	hosts    *knownhosts.HostKeyDB // nil with insecure-ignore-host-key
	caBundle []byte
	id       string
}

// Identity is a digest of the credential material, stable for equal Secrets: it keys the listing cache
// so that two Secrets never share a listing. Empty for anonymous access.
func (c Credentials) Identity() string { return c.id }

// Anonymous reports whether the credentials carry no authentication.
func (c Credentials) Anonymous() bool { return c.kind == credNone }

// IsSSH reports whether the credentials are an SSH key.
func (c Credentials) IsSSH() bool { return c.kind == credSSH }

func (c Credentials) String() string {
	switch c.kind {
	case credBasic:
		return "basic auth as " + c.username
	case credBearer:
		return "bearer token"
	case credSSH:
		return "SSH key"
	}
	return "anonymous"
}

// CredentialsFromSecret reads a Secret's data. Accepted keys (see the Key constants):
//
//   - none: anonymous access;
//   - HTTPS: token [+ username], username + password, or bearerToken; optional ca.crt;
//   - SSH: identity or ssh-privatekey [+ username, password as passphrase] with known_hosts,
//     or with insecure-ignore-host-key: "true" instead of known_hosts.
//
// Other keys are ignored. Errors name the key at fault and wrap ErrInvalid.
func CredentialsFromSecret(data map[string][]byte) (Credentials, error) {
	present := func(k string) bool { _, ok := data[k]; return ok }
	text := func(k string) (string, error) {
		v := strings.TrimRight(string(data[k]), "\r\n")
		if v == "" {
			return "", invalidKey(k, "is empty")
		}
		return v, nil
	}
	sshKey := ""
	for _, k := range []string{KeyIdentity, KeySSHPrivateKey} {
		if !present(k) {
			continue
		}
		if sshKey != "" {
			return Credentials{}, invalidKey(k, "and key %s both hold an SSH key: keep one", sshKey)
		}
		sshKey = k
	}
	var c Credentials
	var err error
	if sshKey != "" {
		c, err = sshCredentials(data, sshKey, present, text)
	} else {
		c, err = httpsCredentials(data, present, text)
	}
	if err != nil {
		return Credentials{}, err
	}
	if c.kind != credNone || c.caBundle != nil {
		c.id = identity(data)
	}
	return c, nil
}

type (
	presentFunc func(string) bool
	textFunc    func(string) (string, error)
)

func httpsCredentials(data map[string][]byte, present presentFunc, text textFunc) (Credentials, error) {
	for _, k := range []string{KeyKnownHosts, KeyInsecureIgnoreHostKey} {
		if present(k) {
			return Credentials{}, invalidKey(k, "applies to SSH keys only, and the Secret has no %s or %s key",
				KeyIdentity, KeySSHPrivateKey)
		}
	}
	var c Credentials
	if present(KeyCABundle) {
		c.caBundle = data[KeyCABundle]
		if !bytes.Contains(c.caBundle, []byte("-----BEGIN CERTIFICATE-----")) {
			return Credentials{}, invalidKey(KeyCABundle, "holds no PEM certificate")
		}
	}
	switch {
	case present(KeyBearerToken):
		for _, k := range []string{KeyToken, KeyUsername, KeyPassword} {
			if present(k) {
				return Credentials{}, invalidKey(KeyBearerToken, "cannot be combined with key %s", k)
			}
		}
		tok, err := text(KeyBearerToken)
		if err != nil {
			return Credentials{}, err
		}
		c.kind, c.password = credBearer, tok
	case present(KeyToken):
		if present(KeyPassword) {
			return Credentials{}, invalidKey(KeyToken, "cannot be combined with key %s: a token is the password", KeyPassword)
		}
		tok, err := text(KeyToken)
		if err != nil {
			return Credentials{}, err
		}
		user := DefaultTokenUsername
		if present(KeyUsername) {
			if user, err = text(KeyUsername); err != nil {
				return Credentials{}, err
			}
		}
		c.kind, c.username, c.password = credBasic, user, tok
	case present(KeyUsername) || present(KeyPassword):
		if !present(KeyUsername) {
			return Credentials{}, invalidKey(KeyUsername, "is missing: key %s needs it", KeyPassword)
		}
		if !present(KeyPassword) {
			return Credentials{}, invalidKey(KeyPassword, "is missing: key %s needs it (or use key %s)", KeyUsername, KeyToken)
		}
		user, err := text(KeyUsername)
		if err != nil {
			return Credentials{}, err
		}
		pass, err := text(KeyPassword)
		if err != nil {
			return Credentials{}, err
		}
		c.kind, c.username, c.password = credBasic, user, pass
	}
	return c, nil
}

func sshCredentials(data map[string][]byte, keyName string, present presentFunc, text textFunc) (Credentials, error) {
	for _, k := range []string{KeyToken, KeyBearerToken, KeyCABundle} {
		if present(k) {
			return Credentials{}, invalidKey(k, "applies to HTTPS only and cannot be combined with the SSH key in key %s", keyName)
		}
	}
	c := Credentials{kind: credSSH}
	var err error
	if present(KeyUsername) {
		if c.username, err = text(KeyUsername); err != nil {
			return Credentials{}, err
		}
	}
	pemBytes := data[keyName]
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return Credentials{}, invalidKey(keyName, "is empty")
	}
	if present(KeyPassword) {
		pass, perr := text(KeyPassword)
		if perr != nil {
			return Credentials{}, perr
		}
		c.signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(pass))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return Credentials{}, invalidKey(KeyPassword, "is not the passphrase of the SSH key in key %s", keyName)
		}
		if err != nil {
			return Credentials{}, invalidKey(keyName, "is not a private key in PEM or OpenSSH format: %v", err)
		}
	} else {
		c.signer, err = ssh.ParsePrivateKey(pemBytes)
		if _, ok := err.(*ssh.PassphraseMissingError); ok {
			return Credentials{}, invalidKey(KeyPassword, "is missing: the SSH key in key %s is encrypted", keyName)
		}
		if err != nil {
			return Credentials{}, invalidKey(keyName, "is not a private key in PEM or OpenSSH format: %v", err)
		}
	}

	insecure := false
	if present(KeyInsecureIgnoreHostKey) {
		v, _ := text(KeyInsecureIgnoreHostKey)
		if insecure, err = strconv.ParseBool(v); err != nil {
			return Credentials{}, invalidKey(KeyInsecureIgnoreHostKey, "must be \"true\" or \"false\", not %q", v)
		}
	}
	switch {
	case present(KeyKnownHosts) && insecure:
		return Credentials{}, invalidKey(KeyInsecureIgnoreHostKey, "is true but key %s is set: keep one", KeyKnownHosts)
	case present(KeyKnownHosts):
		if c.hosts, err = parseKnownHosts(data[KeyKnownHosts]); err != nil {
			return Credentials{}, err
		}
	case !insecure:
		return Credentials{}, invalidKey(KeyKnownHosts, "is missing: SSH host keys are checked against it "+
			"(set key %s to \"true\" to skip the check)", KeyInsecureIgnoreHostKey)
	}
	return c, nil
}

// parseKnownHosts checks every line, then loads the lines into skeema/knownhosts (which only reads files),
// the library go-git itself uses, so that host key algorithms are negotiated from the known keys.
func parseKnownHosts(data []byte) (*knownhosts.HostKeyDB, error) {
	rest, n := data, 0
	for {
		_, _, _, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, invalidKey(KeyKnownHosts, "line %d: %v", n+1, err)
		}
		n++
		rest = next
	}
	if n == 0 {
		return nil, invalidKey(KeyKnownHosts, "holds no host key")
	}
	dir, err := os.MkdirTemp("", "gitref-known-hosts")
	if err != nil {
		return nil, fmt.Errorf("loading key %s: %w", KeyKnownHosts, err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, KeyKnownHosts)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("loading key %s: %w", KeyKnownHosts, err)
	}
	db, err := knownhosts.NewDB(path)
	if err != nil {
		return nil, invalidKey(KeyKnownHosts, "%v", err)
	}
	return db, nil
}

// authFor returns the go-git auth method for an endpoint, checking that the credentials fit its scheme.
func (c Credentials) authFor(ep *transport.Endpoint) (transport.AuthMethod, error) {
	switch ep.Protocol {
	case schemeFile:
		return nil, nil // local repositories need no credentials; any given are unused
	case schemeSSH:
		if c.kind != credSSH {
			return nil, fmt.Errorf("credentials are %s but the repository URL is SSH: give an SSH key (key %s) and %s", c, KeyIdentity, KeyKnownHosts)
		}
	case "http", "https":
		if c.kind == credSSH {
			return nil, fmt.Errorf("credentials are an SSH key but the repository URL is %s: use an ssh:// URL or a token", ep.Protocol)
		}
	}
	switch c.kind {
	case credBasic:
		return &githttp.BasicAuth{Username: c.username, Password: c.password}, nil
	case credBearer:
		return &githttp.TokenAuth{Token: c.password}, nil
	case credSSH:
		user := c.username
		if user == "" {
			user = ep.User
		}
		if user == "" {
			user = "git"
		}
		auth := &gitssh.PublicKeys{User: user, Signer: c.signer}
		if c.hosts == nil {
			auth.HostKeyCallback = ssh.InsecureIgnoreHostKey() // asked for by insecure-ignore-host-key
		} else {
			port := ep.Port
			if port == 0 {
				port = 22
			}
			auth.HostKeyCallback = c.hosts.HostKeyCallback()
			auth.HostKeyAlgorithms = c.hosts.HostKeyAlgorithms(fmt.Sprintf("%s:%d", ep.Host, port))
		}
		return auth, nil
	}
	return nil, nil
}

// identity digests the Secret's data (all keys, so any change gives a new cache key).
func identity(data map[string][]byte) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CredentialsError is a malformed credentials Secret. It names the key at fault and matches both
// ErrInvalid and ErrAuth: fixing it needs a change to the Secret.
type CredentialsError struct {
	Key     string
	Message string
}

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("credentials Secret: key %s %s", e.Key, e.Message)
}

// Is matches ErrInvalid and ErrAuth.
func (e *CredentialsError) Is(target error) bool { return target == ErrInvalid || target == ErrAuth }

func invalidKey(key, format string, args ...any) error {
	return &CredentialsError{Key: key, Message: fmt.Sprintf(format, args...)}
}
