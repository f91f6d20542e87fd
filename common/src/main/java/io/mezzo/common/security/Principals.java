package io.mezzo.common.security;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The principal a client certificate stands for: its subject's common name (CN), or, when the
 * subject has none, its first DNS subject alternative name. Certificates made by {@code mezzo tls
 * cert --name NAME} carry {@code CN=NAME}. Stateless; any thread.
 */
public final class Principals {

    private Principals() {}

    /** The principal of {@code certificate}, or null when it names none. */
    public static String of(X509Certificate certificate) {
        try {
            LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
            List<Rdn> rdns = name.getRdns();
            for (int i = rdns.size() - 1; i >= 0; i--) {
                if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdns.get(i).getValue());
                }
            }
        } catch (InvalidNameException e) {
            // Fall through to the alternative names.
        }
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        return String.valueOf(san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return null;
        }
        return null;
    }
}
