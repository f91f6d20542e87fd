package io.mezzo.dist.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Does polling {@code /state} slow the launch path? One standalone master (system clock) on
 * 127.0.0.1 with simulated agents (raw AgentLink streams) and a raw scheduler stream that launches
 * one small task at a time: it takes an outstanding offer, sends ACCEPT with one LAUNCH, and the
 * time is measured until the agent receives RUN_TASK (scheduler -&gt; master loop -&gt; agent). The
 * offer's unused resources come back in an incremental allocation pass and are offered again.
 * Tasks stay (the simulated agents never report them), so {@code /state} grows with every launch.
 *
 * <p>Rounds alternate without and with a poller that GETs {@code /state} 100 times a second (one
 * request every 10 ms, each waiting for its answer) from another thread of this JVM, so the poller
 * also competes for the same two cores. Not a test: it asserts nothing and is not run by the build.
 *
 * <pre>
 * mvn -B -ntp -q -DskipTests -pl dist -am package dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -cp dist/target/test-classes:dist/target/classes:$(cat /tmp/cp.txt) \
 *     io.mezzo.dist.bench.StatePollingBenchmark 500 2000
 * </pre>
 */
public final class StatePollingBenchmark {

    private StatePollingBenchmark() {}

    public static void main(String[] args) throws Exception {
        int agentCount = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int launchesPerRound = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        System.out.printf("machine: %d cores, Java %s; %d agents, %d launches per round%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), agentCount, launchesPerRound);
        Master master = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("bench")
                .outboundQueueCapacity(100_000).build());
        master.start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", master.port()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
        Map<String, FakeAgent> agents = new HashMap<>();
        for (int i = 0; i < agentCount; i++) {
            FakeAgent a = FakeAgent.register(channel, "sim-" + i, "cpus:16;mem:65536;disk:1048576");
            agents.put(a.agentId.getValue(), a);
        }
        FakeScheduler scheduler = FakeScheduler.subscribe(channel, Protos.framework("bench").build());
        ArrayDeque<Offer> offers = new ArrayDeque<>();
        int[] task = {0};
        System.out.println("| round | poller | launches | ACCEPT to RUN_TASK median | p90 | p99 | max | /state polls"
                + " (median answer, size) |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---|");
        String[] names = {"warm-up", "1", "2", "3", "4", "5", "6"};
        boolean[] poll = {false, false, true, false, true, false, true};
        for (int r = 0; r < names.length; r++) {
            Poller poller = poll[r] ? new Poller(master.httpPort()) : null;
            long[] lat = new long[launchesPerRound];
            for (int i = 0; i < launchesPerRound; i++) {
                while (offers.isEmpty()) {
                    offers.addAll(scheduler.next(Event.Type.OFFERS).getOffers().getOffersList());
                }
                Offer offer = offers.poll();
                FakeAgent agent = agents.get(offer.getAgentId().getValue());
                String id = "t" + task[0]++;
                long start = System.nanoTime();
                scheduler.send(Protos.launch(offer, Protos.task(id, offer, "cpus:0.01;mem:32").build())
                        .setFrameworkId(scheduler.frameworkId).build());
                MasterMessage run = agent.next(MasterMessage.Type.RUN_TASK);
                lat[i] = System.nanoTime() - start;
                if (!run.getRunTask().getTask().getTaskId().getValue().equals(id)) {
                    throw new IllegalStateException("unexpected task " + run.getRunTask().getTask().getTaskId());
                }
                Event e;
                while ((e = scheduler.events.poll()) != null) {
                    if (e.getType() == Event.Type.OFFERS) {
                        offers.addAll(e.getOffers().getOffersList());
                    }
                }
            }
            String polled = poller == null ? "-" : poller.stop();
            Arrays.sort(lat);
            System.out.printf("| %s | %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %s |%n", names[r],
                    poll[r] ? "100/s" : "none", launchesPerRound, ms(lat, 0.5), ms(lat, 0.9), ms(lat, 0.99),
                    lat[lat.length - 1] / 1e6, polled);
        }
        scheduler.close();
        agents.values().forEach(FakeAgent::close);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        master.close();
    }

    private static double ms(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))] / 1e6;
    }

    /** GETs /state every 10 ms from its own thread, each request waiting for its answer. */
    private static final class Poller {
        final AtomicBoolean stop = new AtomicBoolean();
        final List<Long> times = new ArrayList<>();
        final Thread thread;
        volatile int lastSize;

        Poller(int httpPort) {
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/state")).build();
            thread = new Thread(() -> {
                long next = System.nanoTime();
                while (!stop.get()) {
                    long t = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        lastSize = r.body().length;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    synchronized (times) {
                        times.add(System.nanoTime() - t);
                    }
                    next += 10_000_000;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        try {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            }, "state-poller");
            thread.start();
        }

        String stop() throws InterruptedException {
            stop.set(true);
            thread.join();
            long[] t = times.stream().mapToLong(Long::longValue).sorted().toArray();
            return String.format("%d polls, %.1f ms, %d KB", t.length, ms(t, 0.5), lastSize / 1024);
        }
    }
}
