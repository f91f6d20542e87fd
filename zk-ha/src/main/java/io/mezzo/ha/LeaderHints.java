package io.mezzo.ha;

import io.mezzo.proto.v1.MasterInfo;

/**
 * Validates the leader hint a master that does not lead sends with its UNAVAILABLE answer (the
 * {@code mezzo-leader} trailer, {@code io.mezzo.common.grpc.LeaderHint}). The hint comes from the
 * network, so it is untrusted: it may name only {@code host:port} (a DNS name, an IPv4 address or
 * a bracketed IPv6 address, and a port in 1-65535), nothing a client would have to interpret
 * further (no URL, no credentials, no path, no {@code zk://} address that would open a ZooKeeper
 * session). Clients connect to a valid hint at once and ask their detector again ({@link
 * MasterDetector#redetect()}); an invalid one is ignored with one WARN line giving the reason.
 *
 * <p>Pure and stateless; any thread. Uses no Curator class (the scheduler library uses it too).
 */
public final class LeaderHints {

    /** Longest hint accepted: a 253-character DNS name, ':' and a 5-digit port. */
    static final int MAX_LENGTH = 259;
    /** Longest part of a rejected hint quoted in an error message. */
    private static final int QUOTED = 64;

    private LeaderHints() {}

    /**
     * The master a hint names: {@code ip} and {@code hostname} are the host (without brackets),
     * {@code port} the port; no id or epoch (the hint does not say them).
     *
     * @throws IllegalArgumentException saying what is wrong with the hint (the hint is quoted
     *     shortened and with unprintable characters escaped)
     */
    public static MasterInfo parse(String hint) {
        if (hint == null || hint.isEmpty()) {
            throw new IllegalArgumentException("leader hint is empty");
        }
        if (hint.length() > MAX_LENGTH) {
            throw invalid(hint, "is longer than " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < hint.length(); i++) {
            char c = hint.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
            if (!ok) {
                throw invalid(hint, "has a character a host:port cannot have at position " + i);
            }
        }
        int colon = hint.lastIndexOf(':');
        if (colon <= 0 || colon == hint.length() - 1) {
            throw invalid(hint, "is not host:port");
        }
        String portText = hint.substring(colon + 1);
        if (portText.length() > 5 || !portText.chars().allMatch(Character::isDigit)) {
            throw invalid(hint, "has a port that is not a number");
        }
        int port = Integer.parseInt(portText);
        if (port < 1 || port > 65535) {
            throw invalid(hint, "has port " + port + " outside 1-65535");
        }
        String host = hint.substring(0, colon);
        if (host.startsWith("[")) {
            host = ipv6(hint, host);
        } else if (!dnsNameOrIpv4(host)) {
            throw invalid(hint, host.contains(":") ? "has an IPv6 address without brackets" : "has an invalid host name");
        }
        return MasterInfo.newBuilder().setHostname(host).setIp(host).setPort(port).build();
    }

    private static String ipv6(String hint, String bracketed) {
        if (bracketed.length() < 4 || !bracketed.endsWith("]")) {
            throw invalid(hint, "has an IPv6 address that is not [address]");
        }
        String inner = bracketed.substring(1, bracketed.length() - 1);
        boolean ok = inner.contains(":") && inner.chars().allMatch(c ->
                Character.digit(c, 16) >= 0 || c == ':' || c == '.');
        if (!ok) {
            throw invalid(hint, "has an invalid IPv6 address");
        }
        return inner;
    }

    /** RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens, 253 at most. */
    private static boolean dnsNameOrIpv4(String host) {
        if (host.isEmpty() || host.length() > 253 || host.startsWith(".") || host.endsWith(".")) {
            return false;
        }
        for (String label : host.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
                    return false;
                }
            }
        }
        return true;
    }

    private static IllegalArgumentException invalid(String hint, String what) {
        return new IllegalArgumentException("leader hint '" + quote(hint) + "' " + what);
    }

    /** At most {@value #QUOTED} characters of {@code s}, unprintable ones escaped, for a log line. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(s.length(), QUOTED);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > QUOTED) {
            b.append("...");
        }
        return b.toString();
    }
}
