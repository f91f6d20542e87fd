/**
 * gRPC plumbing every daemon shares: {@link io.mezzo.common.grpc.OutboundStream} (a bounded,
 * back-pressured sending half of a stream, sent to from an event loop and drained by gRPC threads)
 * and {@link io.mezzo.common.grpc.LeaderHint} (the "the leader is elsewhere" trailer of the
 * protocol).
 */
package io.mezzo.common.grpc;
