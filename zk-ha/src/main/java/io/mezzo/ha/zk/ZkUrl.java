package io.mezzo.ha.zk;

import java.nio.charset.StandardCharsets;

/**
 * A ZooKeeper address as operators write it, the Mesos way:
 * {@code zk://[user:password@]host1:2181,host2:2181/path}. The path is the root of everything
 * Mezzo keeps in ZooKeeper; the optional credentials authenticate with the digest scheme.
 *
 * @param connectString the hosts, as ZooKeeper's client takes them
 * @param path the root path, starting with '/', without a trailing '/'
 * @param credentials "user:password" for digest authentication, or null
 */
public record ZkUrl(String connectString, String path, String credentials) {

    /**
     * Parses a {@code zk://} URL.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static ZkUrl parse(String url) {
        if (url == null || !url.startsWith("zk://")) {
            throw new IllegalArgumentException("'" + url + "' is not a zk:// URL such as zk://h1:2181,h2:2181/mezzo");
        }
        String rest = url.substring("zk://".length());
        String credentials = null;
        int at = rest.lastIndexOf('@', rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/'));
        if (at >= 0) {
            credentials = rest.substring(0, at);
            rest = rest.substring(at + 1);
            if (!credentials.contains(":") || credentials.startsWith(":")) {
                throw new IllegalArgumentException("credentials in '" + url + "' must be user:password");
            }
        }
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("'" + url + "' has no hosts or no path; write zk://host:port/path");
        }
        String hosts = rest.substring(0, slash);
        String path = rest.substring(slash);
        while (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.equals("/")) {
            throw new IllegalArgumentException("'" + url + "' has an empty path; give Mezzo its own, e.g. /mezzo");
        }
        if (path.contains("//")) {
            throw new IllegalArgumentException("'" + url + "' has an empty path segment");
        }
        for (String host : hosts.split(",")) {
            int colon = host.lastIndexOf(':');
            if (host.isBlank() || colon <= 0 || colon == host.length() - 1) {
                throw new IllegalArgumentException("host '" + host + "' in '" + url + "' is not host:port");
            }
            try {
                int port = Integer.parseInt(host.substring(colon + 1));
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("host '" + host + "' in '" + url + "' has an invalid port");
            }
        }
        return new ZkUrl(hosts, path, credentials);
    }

    /** The namespace Curator prefixes to every path: the root path without its leading '/'. */
    public String namespace() {
        return path.substring(1);
    }

    /** The digest credentials as bytes, or null. */
    public byte[] credentialBytes() {
        return credentials == null ? null : credentials.getBytes(StandardCharsets.UTF_8);
    }

    /** The URL without the password, for logs. */
    @Override
    public String toString() {
        String user = credentials == null ? "" : credentials.substring(0, credentials.indexOf(':')) + ":***@";
        return "zk://" + user + connectString + path;
    }
}
