package io.mezzo.common.security;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Principal and secret pairs, as Mesos' {@code --credentials}: either JSON, {@code
 * {"credentials": [{"principal": "sched", "secret": "..."}]}}, or text with one {@code principal
 * secret} pair a line ({@code #} starts a comment). A daemon checks callers against the whole file
 * ({@link #verify}); a client reads its own single credential with {@link #single}.
 *
 * <p>Immutable; any thread. Secrets are compared in constant time and never logged.
 */
public final class CredentialsFile {

    private final Map<String, byte[]> secrets;

    private CredentialsFile(Map<String, byte[]> secrets) {
        this.secrets = secrets;
    }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException naming the file and the line or entry that is wrong
     */
    public static CredentialsFile load(Path file) {
        Map<String, byte[]> secrets = new LinkedHashMap<>();
        for (Credential c : read(file)) {
            if (secrets.put(c.principal(), c.secret().getBytes(StandardCharsets.UTF_8)) != null) {
                throw new IllegalArgumentException("credentials file " + file + " names principal '" + c.principal()
                        + "' twice");
            }
        }
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("credentials file " + file + " holds no credential");
        }
        return new CredentialsFile(secrets);
    }

    /** The one credential of a client's file; throws IllegalArgumentException when it holds more or none. */
    public static Credential single(Path file) {
        List<Credential> all = read(file);
        if (all.size() != 1) {
            throw new IllegalArgumentException("credential file " + file + " must hold exactly one principal and secret, has "
                    + all.size());
        }
        return all.get(0);
    }

    /** A file holding exactly {@code credentials} (for tests and dev mode). */
    public static CredentialsFile of(List<Credential> credentials) {
        Map<String, byte[]> secrets = new LinkedHashMap<>();
        for (Credential c : credentials) {
            secrets.put(c.principal(), c.secret().getBytes(StandardCharsets.UTF_8));
        }
        return new CredentialsFile(secrets);
    }

    /** Whether {@code principal} is known and {@code secret} is its secret (constant time in the secret). */
    public boolean verify(String principal, String secret) {
        byte[] expected = secrets.get(principal);
        byte[] given = secret.getBytes(StandardCharsets.UTF_8);
        if (expected == null) {
            // Same work either way: an unknown principal is not told apart by timing.
            MessageDigest.isEqual(given, given);
            return false;
        }
        return MessageDigest.isEqual(expected, given);
    }

    /** How many principals the file holds. */
    public int size() {
        return secrets.size();
    }

    private static List<Credential> read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read credentials file " + file + ": " + e.getMessage(), e);
        }
        String trimmed = text.strip();
        List<Credential> out = new java.util.ArrayList<>();
        if (trimmed.startsWith("{")) {
            try {
                JsonObject root = JsonParser.parseString(trimmed).getAsJsonObject();
                JsonElement list = root.get("credentials");
                if (list == null || !list.isJsonArray()) {
                    throw new IllegalArgumentException("credentials file " + file + " has no \"credentials\" array");
                }
                JsonArray array = list.getAsJsonArray();
                for (int i = 0; i < array.size(); i++) {
                    JsonObject o = array.get(i).getAsJsonObject();
                    JsonElement p = o.get("principal");
                    JsonElement s = o.get("secret");
                    if (p == null || s == null) {
                        throw new IllegalArgumentException("credentials file " + file + ": entry " + i
                                + " needs \"principal\" and \"secret\"");
                    }
                    out.add(new Credential(p.getAsString(), s.getAsString()));
                }
            } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
                throw new IllegalArgumentException("credentials file " + file + " is not valid JSON: " + e.getMessage(), e);
            }
            return out;
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+");
            if (parts.length != 2) {
                throw new IllegalArgumentException("credentials file " + file + " line " + (i + 1)
                        + ": expected 'principal secret'");
            }
            out.add(new Credential(parts[0], parts[1]));
        }
        return out;
    }
}
