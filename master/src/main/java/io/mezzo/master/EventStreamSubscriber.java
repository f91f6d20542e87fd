package io.mezzo.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.OperatorEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser's server-sent-events stream ({@code GET /api/v1/events}): the operator event stream
 * of {@link OperatorEvents}, the same source as {@code Operator.Subscribe}, framed as {@code
 * text/event-stream}.
 *
 * <pre>
 *  operator-events thread --send(event)--> frame() --> channel.writeAndFlush (Netty queues it)
 *                                              queued +1 ............ written to the socket: -1
 *  SUBSCRIBED  ->  "event: SUBSCRIBED\ndata: {...master_info only...}\n\n"
 *  HEARTBEAT   ->  ": heartbeat 1796288699.066\n\n"        (a comment: EventSource ignores it)
 *  other       ->  "event: TASK_UPDATED\ndata: {compact JSON, proto field names}\n\n"
 * </pre>
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>At most {@code capacity} events wait for the socket: the next one drops the client (the
 *       response ends, the reason is logged once at WARN), so a stuck browser never grows the
 *       master's memory.
 *   <li>SUBSCRIBED carries the master's info, not the whole state: a page reads the paged views
 *       for that, so 10,000 tasks are never pushed down one stream at once.
 * </ol>
 *
 * <p>Owner: {@link HttpEndpoints}, which opens the response and subscribes it. Threads: the
 * operator-events thread sends; Netty's I/O thread counts writes done and reports the close.
 */
final class EventStreamSubscriber implements OperatorEvents.Subscriber {

    private static final Logger LOG = LoggerFactory.getLogger(EventStreamSubscriber.class);
    private static final JsonFormat.Printer COMPACT =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    private final Channel channel;
    private final int capacity;
    private final Consumer<EventStreamSubscriber> onGone;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param capacity events that may wait for the socket before the client is dropped
     * @param onGone told once when the stream ends, for whatever reason (to unsubscribe)
     */
    EventStreamSubscriber(Channel channel, int capacity, Consumer<EventStreamSubscriber> onGone) {
        this.channel = channel;
        this.capacity = capacity;
        this.onGone = onGone;
        channel.closeFuture().addListener(f -> closeQuietly());
    }

    /** The response head: {@code 200 text/event-stream}, chunked, never cached. */
    static HttpResponse head() {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        response.headers().set("X-Accel-Buffering", "no");
        HttpUtil.setTransferEncodingChunked(response, true);
        return response;
    }

    /** {@code event} as one SSE frame (invariant 2 for SUBSCRIBED). */
    static String frame(OperatorEvent event) {
        if (event.getType() == OperatorEvent.Type.HEARTBEAT) {
            return ": heartbeat " + event.getTime() + "\n\n";
        }
        OperatorEvent e = event;
        if (event.getType() == OperatorEvent.Type.SUBSCRIBED) {
            e = event.toBuilder().setSubscribed(event.getSubscribed().toBuilder().setState(GetStateResponse.newBuilder()
                    .setMasterInfo(event.getSubscribed().getState().getMasterInfo()))).build();
        }
        String json;
        try {
            json = COMPACT.print(e);
        } catch (InvalidProtocolBufferException ex) {
            // Our own messages always print; a failure here is a bug, not the client's fault.
            throw new IllegalStateException("cannot print an operator event: " + ex.getMessage(), ex);
        }
        // The compact printer writes no newline, so the data is one line.
        return "event: " + event.getType().name() + "\ndata: " + json + "\n\n";
    }

    @Override
    public boolean send(OperatorEvent event) {
        if (closed.get()) {
            return false;
        }
        if (queued.incrementAndGet() > capacity) {
            LOG.warn("Dropped an operator event subscriber: SSE client {} did not read {} queued events",
                    channel.remoteAddress(), capacity);
            // Its socket is stuck: what is queued would never be written, so the connection closes now.
            closeQuietly();
            channel.close();
            return false;
        }
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(frame(event), StandardCharsets.UTF_8)))
                .addListener(f -> queued.decrementAndGet());
        return true;
    }

    @Override
    public void end(String reason) {
        if (!closed.get()) {
            LOG.debug("Ending the SSE stream of {}: {}", channel.remoteAddress(), reason);
            channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(": end: " + reason + "\n\n",
                    StandardCharsets.UTF_8)));
            channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        }
        closeQuietly();
    }

    @Override
    public boolean isClosed() {
        return closed.get() || !channel.isActive();
    }

    /** Events written but not yet on the socket (tests). */
    int queued() {
        return queued.get();
    }

    private void closeQuietly() {
        if (closed.compareAndSet(false, true)) {
            onGone.accept(this);
        }
    }
}
