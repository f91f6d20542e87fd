package io.mezzo.sim;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One simulated gRPC stream between a client (an agent or a scheduler) and a master. Like a real
 * stream it is reliable and ordered in each direction, with a delay per message; a break (a fault,
 * a crash of either end, or the master failing the stream) loses whatever is still in flight, and
 * each end hears of it once. A reconnection is a new link, so messages of the old and the new one
 * may arrive in any order: exactly what the real transport allows.
 *
 * <p>Thread: the simulation's.
 *
 * @param <C> what the client sends
 * @param <S> what the master sends
 */
final class Link<C, S> {

    /** The client's end: what the master sends, and the end of the stream. */
    interface Client<S> {
        void received(S message);

        void closed(String why);
    }

    private final World world;
    private final String name;
    private final Network network;
    private final Client<S> client;
    private final StreamObserver<C> server;
    private final ServerSide serverSide = new ServerSide();
    private boolean broken;
    /** The master completed or failed the stream. */
    private boolean serverDone;
    private long lastToServer;
    private long lastToClient;

    /**
     * Opens a link: {@code open} is the master's service method ({@code EmbeddedMaster::subscribe}
     * or {@code ::connect}), called at once as gRPC calls it when the stream starts.
     */
    Link(World world, Network network, String name, Client<S> client, Function<StreamObserver<S>, StreamObserver<C>> open) {
        this.world = world;
        this.network = network;
        this.name = name;
        this.client = client;
        this.server = open.apply(serverSide);
    }

    /** The client sends {@code message}; it reaches the master later, in order, unless the link breaks. */
    void send(C message, String what) {
        if (broken || serverDone) {
            return;
        }
        long at = Math.max(lastToServer, world.clock.millis() + network.delay());
        lastToServer = at;
        world.after(at - world.clock.millis(), what.isEmpty() ? "" : name + " -> master: " + what, () -> {
            if (!broken && !serverDone) {
                server.onNext(message);
            }
        });
    }

    /** The client closes the stream (or crashes): the master hears of it after a delay. */
    void closeFromClient(String why) {
        breakLink(why, false);
    }

    /** The network breaks the stream: both ends hear of it after a delay. */
    void breakLink(String why) {
        breakLink(why, true);
    }

    boolean broken() {
        return broken || serverDone;
    }

    private void breakLink(String why, boolean tellClient) {
        if (broken) {
            return;
        }
        broken = true;
        if (serverDone) {
            return;
        }
        world.trace(name + " broken: " + why);
        world.after(network.delay(), "", () -> {
            Runnable cancel = serverSide.onCancel;
            if (cancel != null) {
                cancel.run();
            } else {
                server.onError(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
            }
        });
        if (tellClient) {
            world.after(network.delay(), name + " closed at the client: " + why, () -> client.closed(why));
        }
    }

    private void toClient(String what, Consumer<Client<S>> delivery) {
        if (broken) {
            return;
        }
        long at = Math.max(lastToClient, world.clock.millis() + network.delay());
        lastToClient = at;
        world.after(at - world.clock.millis(), what, () -> delivery.accept(client));
    }

    /** What the master's service holds: the server half of the stream. */
    private final class ServerSide extends ServerCallStreamObserver<S> {
        Runnable onCancel;
        private boolean done;

        @Override
        public void onNext(S value) {
            if (!done) {
                toClient("", c -> {
                    // Lost with the stream if it broke while on its way.
                    if (!broken) {
                        c.received(value);
                    }
                });
            }
        }

        @Override
        public void onError(Throwable t) {
            end("master failed the stream: " + Status.fromThrowable(t).getDescription());
        }

        @Override
        public void onCompleted() {
            end("master completed the stream");
        }

        private void end(String why) {
            if (done || broken) {
                return;
            }
            done = true;
            toClient(name + " closed by the master: " + why, c -> c.closed(why));
            // The call is over: what the client sends from now on, or has in flight, is discarded.
            serverDone = true;
        }

        @Override
        public boolean isCancelled() {
            return broken;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {
            this.onCancel = onCancelHandler;
        }

        @Override
        public void setCompression(String compression) {}

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        // The services take inbound flow control (request(n) as the loop drains); the simulated
        // network delivers in order without a window, so both are no-ops here.
        @Override
        public void disableAutoRequest() {}
    }
}
