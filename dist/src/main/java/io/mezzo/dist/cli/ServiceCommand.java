package io.mezzo.dist.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo service ...}: the client of the services HTTP API ({@code mezzo services}). Every
 * subcommand is one request; a refusal prints the API's reason and exits 1.
 */
@Command(name = "service", mixinStandardHelpOptions = true,
        description = {"Deploy and manage long-running services through the service scheduler (`mezzo services`).",
            "Exit codes: 0 done; 1 refused (the reason is printed) or the scheduler cannot be reached; 2 bad usage."},
        subcommands = {ServiceCommand.Deploy.class, ServiceCommand.Plan.class, ServiceCommand.ListServices.class,
            ServiceCommand.Show.class, ServiceCommand.Endpoints.class, ServiceCommand.Scale.class,
            ServiceCommand.Restart.class, ServiceCommand.Promote.class, ServiceCommand.Abort.class,
            ServiceCommand.Rollback.class, ServiceCommand.Delete.class})
final class ServiceCommand implements Runnable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** What every subcommand shares: where the API is, and one request. */
    abstract static class Base implements Callable<Integer> {

        @Option(names = "--services", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:5054",
                description = "The services API (any services daemon; standbys redirect). Default: ${DEFAULT-VALUE}.")
        String services;

        PrintStream out = System.out;
        PrintStream err = System.err;

        /** Sends one request; returns the JSON answer, or null after printing the refusal. */
        JsonNode request(String method, String path, String body) throws IOException, InterruptedException {
            String base = services.startsWith("http://") || services.startsWith("https://") ? services : "http://" + services;
            HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(40))
                    .header("Content-Type", "application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                    .build();
            HttpResponse<String> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (java.net.ConnectException e) {
                err.println("mezzo service: cannot reach the services API at " + base
                        + " (is `mezzo services` running? set --services or MEZZO_SERVICES)");
                return null;
            }
            JsonNode json;
            try {
                json = MAPPER.readTree(response.body());
            } catch (IOException e) {
                err.println("mezzo service: " + base + " answered " + response.statusCode() + " without JSON");
                return null;
            }
            if (response.statusCode() != 200) {
                err.println("mezzo service: " + json.path("message").asText(response.body())
                        + " (" + response.statusCode() + " " + json.path("error").asText() + ")");
                return null;
            }
            return json;
        }

        int print(JsonNode json) throws IOException {
            if (json == null) {
                return 1;
            }
            out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(json));
            return 0;
        }

        static String definition(Path file) throws IOException {
            try {
                return Files.readString(file);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("no such file: " + file);
            }
        }
    }

    /** {@code deploy FILE}. */
    @Command(name = "deploy", mixinStandardHelpOptions = true, description = "Create or update a service from a JSON definition.")
    static final class Deploy extends Base {
        @Parameters(paramLabel = "FILE", description = "The service definition (JSON).")
        Path file;

        @Override
        public Integer call() throws Exception {
            JsonNode json = request("POST", "/v1/services", definition(file));
            if (json == null) {
                return 1;
            }
            out.println(json.path("plan").asText() + (json.path("action").asText().equals("none") ? "" : " (started)"));
            return 0;
        }
    }

    /** {@code plan FILE}. */
    @Command(name = "plan", mixinStandardHelpOptions = true, description = "Show what deploying a definition would do, without doing it.")
    static final class Plan extends Base {
        @Parameters(paramLabel = "FILE", description = "The service definition (JSON).")
        Path file;

        @Override
        public Integer call() throws Exception {
            JsonNode json = request("POST", "/v1/services?plan=true", definition(file));
            if (json == null) {
                return 1;
            }
            out.println(json.path("plan").asText());
            return 0;
        }
    }

    /** {@code list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the services.")
    static final class ListServices extends Base {
        @Override
        public Integer call() throws Exception {
            JsonNode json = request("GET", "/v1/services", null);
            if (json == null) {
                return 1;
            }
            out.printf("%-24s %7s %-8s %9s %7s %7s  %s%n", "ID", "VERSION", "STATUS", "INSTANCES", "RUNNING", "HEALTHY", "DEPLOYMENT");
            for (JsonNode s : json) {
                JsonNode d = s.path("deployment");
                String deployment = d.isMissingNode() ? "" : "v" + d.path("fromVersion").asInt() + " -> v"
                        + d.path("toVersion").asInt() + " " + d.path("state").asText()
                        + (d.path("reason").asText().isEmpty() ? "" : ": " + d.path("reason").asText());
                out.printf("%-24s %7d %-8s %9d %7d %7d  %s%n", s.path("id").asText(), s.path("version").asInt(),
                        s.path("status").asText(), s.path("instances").asInt(), s.path("running").asInt(),
                        s.path("healthy").asInt(), deployment);
            }
            return 0;
        }
    }

    /** {@code show ID}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a service: definition, instances, deployment (JSON).")
    static final class Show extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            return print(request("GET", "/v1/services/" + id, null));
        }
    }

    /** {@code endpoints ID}. */
    @Command(name = "endpoints", mixinStandardHelpOptions = true, description = "Print host:port of each healthy instance.")
    static final class Endpoints extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            JsonNode json = request("GET", "/v1/services/" + id + "/endpoints", null);
            if (json == null) {
                return 1;
            }
            json.path("endpoints").forEach(e -> out.println(e.path("address").asText(e.path("host").asText())));
            return 0;
        }
    }

    /** {@code scale ID N}. */
    @Command(name = "scale", mixinStandardHelpOptions = true, description = "Set a service's instance count.")
    static final class Scale extends Base {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Parameters(index = "1", paramLabel = "N")
        int instances;

        @Override
        public Integer call() throws Exception {
            return print(request("POST", "/v1/services/" + id + "/scale", "{\"instances\":" + instances + "}"));
        }
    }

    /** One POST action on a service. */
    abstract static class Action extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        abstract String action();

        @Override
        public Integer call() throws Exception {
            return print(request("POST", "/v1/services/" + id + "/" + action(), ""));
        }
    }

    /** {@code restart ID}. */
    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Replace every instance, rolling.")
    static final class Restart extends Action {
        @Override
        String action() {
            return "restart";
        }
    }

    /** {@code promote ID}. */
    @Command(name = "promote", mixinStandardHelpOptions = true, description = "Promote the canaries: roll the rest.")
    static final class Promote extends Action {
        @Override
        String action() {
            return "promote";
        }
    }

    /** {@code abort ID}. */
    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Abort the running deployment: roll back.")
    static final class Abort extends Action {
        @Override
        String action() {
            return "abort";
        }
    }

    /** {@code rollback ID}. */
    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Roll back the running deployment, or else to the previous version.")
    static final class Rollback extends Action {
        @Override
        String action() {
            return "rollback";
        }
    }

    /** {@code delete ID}. */
    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a service: kill its instances and forget it.")
    static final class Delete extends Base {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            return print(request("DELETE", "/v1/services/" + id, null));
        }
    }
}
