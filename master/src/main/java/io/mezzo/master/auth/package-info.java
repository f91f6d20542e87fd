/**
 * Who is calling and what they may do. {@link io.mezzo.master.auth.AuthInterceptor} (the gRPC edge)
 * and {@link io.mezzo.master.auth.Authenticator} (shared with the HTTP edge) turn a client
 * certificate or an {@code authorization: Basic} header into a principal, put it into the call's
 * context ({@link io.mezzo.master.auth.AuthContext#PRINCIPAL}), and refuse UNAUTHENTICATED where
 * {@code --authenticate_*} asks for one. {@link io.mezzo.master.auth.Acls} is the ACL file
 * (validated at start), {@link io.mezzo.master.auth.Action} its actions, {@link
 * io.mezzo.master.auth.AcceptAuthorization} the check of an ACCEPT's users and reservations, and
 * {@link io.mezzo.master.auth.ViewFilter} what an operator may see. {@link
 * io.mezzo.master.auth.Audit} writes the {@code io.mezzo.audit} log.
 *
 * <pre>
 *  TLS handshake (--tls_client_auth) --> client certificate CN --+
 *  authorization: Basic p:s --> --credentials (constant time) ---+--> principal (or anonymous)
 *      --authenticate_* and no principal --> UNAUTHENTICATED
 *      AuthContext.PRINCIPAL --> edges (operator ACLs, views), loop (framework and agent ids
 *                                belong to a principal; ACCEPT users and reservations)
 * </pre>
 *
 * <p>Everything here is immutable or stateless, with no master state: any thread.
 */
package io.mezzo.master.auth;
