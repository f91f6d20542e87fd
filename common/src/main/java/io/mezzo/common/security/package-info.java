/**
 * Transport security and credentials every daemon and client shares: {@link
 * io.mezzo.common.security.TlsSettings} (the {@code --tls_*} flags), {@link
 * io.mezzo.common.security.TlsContext} (key and trust managers read from PEM files and reloaded
 * when the files change, as gRPC server or channel credentials, or for a Netty HTTP server), {@link
 * io.mezzo.common.security.Credential} and {@link io.mezzo.common.security.CredentialsFile} (Mesos
 * {@code --credentials} semantics: principal and secret pairs), and {@link
 * io.mezzo.common.security.BasicAuth} (how a principal and secret travel: an HTTP {@code
 * authorization: Basic} header, on gRPC calls as call credentials). See docs/security.md.
 *
 * <p>Immutable values and thread-safe helpers; any thread.
 */
package io.mezzo.common.security;
