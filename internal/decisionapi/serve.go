package decisionapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// ServeOptions configure the HTTPS listener.
type ServeOptions struct {
	// Addr to listen on, like ":9443" or "127.0.0.1:0".
	Addr string
	// CertDir holds tls.crt and tls.key (a Secret mounted by the chart),
	// reloaded when they change. Empty: a self-signed certificate.
	CertDir string
	// DNSNames are the self-signed certificate's names besides localhost and
	// the host name: the Service's, so that clients can verify it.
	DNSNames []string
}

// Listener is the decision API's HTTPS server, run by the manager on every
// replica (it does not need the leader lease).
type Listener struct {
	opts    ServeOptions
	handler http.Handler
	log     logr.Logger
	ready   chan struct{}
	addr    net.Addr
}

// NewListener serves handler with opts.
func NewListener(opts ServeOptions, handler http.Handler, log logr.Logger) *Listener {
	return &Listener{opts: opts, handler: handler, log: log, ready: make(chan struct{})}
}

// NeedLeaderElection is false: every replica answers checks.
func (l *Listener) NeedLeaderElection() bool { return false }

// Addr returns the address listened on, once Start has bound it.
func (l *Listener) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case <-l.ready:
		return l.addr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Start serves until ctx ends, then shuts down gracefully.
func (l *Listener) Start(ctx context.Context) error {
	tlsConfig, err := l.tlsConfig(ctx)
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", l.opts.Addr, tlsConfig)
	if err != nil {
		return fmt.Errorf("decision API: listening on %s: %w", l.opts.Addr, err)
	}
	l.addr = ln.Addr()
	close(l.ready)
	srv := &http.Server{
		Handler:           l.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	l.log.Info("serving the decision API", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func (l *Listener) tlsConfig(ctx context.Context) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if l.opts.CertDir != "" {
		w, err := certwatcher.New(filepath.Join(l.opts.CertDir, "tls.crt"), filepath.Join(l.opts.CertDir, "tls.key"))
		if err != nil {
			return nil, fmt.Errorf("decision API: loading the certificate from %s: %w", l.opts.CertDir, err)
		}
		go func() {
			if err := w.Start(ctx); err != nil {
				l.log.Error(err, "watching the decision API certificate")
			}
		}()
		cfg.GetCertificate = w.GetCertificate
		return cfg, nil
	}
	host, _ := os.Hostname()
	names := append([]string{"localhost"}, l.opts.DNSNames...)
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(host, []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}, names)
	if err != nil {
		return nil, fmt.Errorf("decision API: self-signed certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}
