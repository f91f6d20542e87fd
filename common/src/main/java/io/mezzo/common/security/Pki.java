package io.mezzo.common.security;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small cluster certificate authority, as {@code nomad tls ca create} / {@code nomad tls cert
 * create}: {@link #createCa} makes a self-signed CA ({@code ca.pem}, {@code ca-key.pem}); {@link
 * #issue} signs a certificate for a node or a client ({@code NAME.pem}, {@code NAME-key.pem}) with
 * {@code CN=NAME} (its principal, see {@link Principals}) and subject alternative names for the
 * host names and addresses it serves on. Keys are ECDSA P-256, PKCS#8 PEM, written mode 0600.
 * Issued certificates are good for both server and client authentication, so one certificate
 * serves a master's port and its calls to agents.
 *
 * <p>Built on Bouncy Castle's PKIX, which is an optional dependency of this module: {@code mezzo}
 * (dist) and the test kit bring it; daemons do not need it. Stateless; any thread.
 */
public final class Pki {

    /** The CA certificate's file name. */
    public static final String CA_CERT = "ca.pem";
    /** The CA key's file name. */
    public static final String CA_KEY = "ca-key.pem";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Pki() {}

    /** Files of one issued certificate. */
    public record Issued(Path cert, Path key) {}

    /**
     * Creates {@code ca.pem} and {@code ca-key.pem} in {@code dir}; refuses to overwrite either.
     *
     * @throws IllegalArgumentException when a file exists or cannot be written
     */
    public static Issued createCa(Path dir, String commonName, Duration validity) {
        Path cert = dir.resolve(CA_CERT);
        Path key = dir.resolve(CA_KEY);
        refuseOverwrite(cert, key);
        try {
            KeyPair pair = newKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                    .addRDN(BCStyle.O, "Mezzo").addRDN(BCStyle.CN, commonName).build();
            Instant now = Instant.now();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate ca = sign(b, pair.getPrivate());
            Files.createDirectories(dir);
            writeKey(key, pair.getPrivate());
            Files.writeString(cert, pem(ca), StandardCharsets.UTF_8);
            return new Issued(cert, key);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalArgumentException("cannot create the CA in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Signs a certificate for {@code name} with the CA in {@code caDir} and writes {@code
     * NAME.pem} (leaf then CA) and {@code NAME-key.pem} to {@code outDir}. The subject alternative
     * names are {@code name}, {@code localhost}, {@code 127.0.0.1} and {@code sans} (host names or
     * IP addresses).
     *
     * @throws IllegalArgumentException on a bad name, a missing CA, or a file that exists
     */
    public static Issued issue(Path caDir, String name, List<String> sans, Path outDir, Duration validity) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("--name '" + name
                    + "' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        Path cert = outDir.resolve(name + ".pem");
        Path key = outDir.resolve(name + "-key.pem");
        refuseOverwrite(cert, key);
        try {
            X509Certificate ca = readCertificate(caDir.resolve(CA_CERT));
            PrivateKey caKey = readKey(caDir.resolve(CA_KEY));
            KeyPair pair = newKeyPair();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                    .addRDN(BCStyle.O, "Mezzo").addRDN(BCStyle.CN, name).build();
            Set<String> all = new LinkedHashSet<>();
            all.add(name);
            all.add("localhost");
            all.add("127.0.0.1");
            all.addAll(sans);
            List<GeneralName> names = new ArrayList<>();
            for (String san : all) {
                String s = san.trim();
                if (s.isEmpty()) {
                    continue;
                }
                names.add(isAddress(s) ? new GeneralName(GeneralName.iPAddress, s) : new GeneralName(GeneralName.dNSName, s));
            }
            Instant now = Instant.now();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X509CertificateHolder(ca.getEncoded()).getSubject(),
                    serial(), Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject,
                    pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(GeneralName[]::new)))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            X509Certificate leaf = sign(b, caKey);
            Files.createDirectories(outDir);
            writeKey(key, pair.getPrivate());
            Files.writeString(cert, pem(leaf) + pem(ca), StandardCharsets.UTF_8);
            return new Issued(cert, key);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalArgumentException("cannot issue a certificate for " + name + " with the CA in " + caDir + ": "
                    + e.getMessage(), e);
        }
    }

    private static boolean isAddress(String s) {
        if (s.matches("[0-9.]+") || s.contains(":")) {
            try {
                InetAddress.getByName(s);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        return false;
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static String pem(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(o instanceof PrivateKey k ? new JcaPKCS8Generator(k, null) : new JcaMiscPEMGenerator(o));
        }
        return w.toString();
    }

    private static void writeKey(Path file, PrivateKey key) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, pem(key), StandardCharsets.UTF_8);
    }

    private static void refuseOverwrite(Path... files) {
        for (Path f : files) {
            if (Files.exists(f)) {
                throw new IllegalArgumentException(f + " already exists; remove it first or choose another directory");
            }
        }
    }

    private static X509Certificate readCertificate(Path file) throws IOException, GeneralSecurityException {
        if (!Files.isReadable(file)) {
            throw new IOException(file + " does not exist; run 'mezzo tls ca' first");
        }
        try (PEMParser p = new PEMParser(Files.newBufferedReader(file))) {
            Object o = p.readObject();
            if (!(o instanceof X509CertificateHolder h)) {
                throw new IOException(file + " holds no certificate");
            }
            return new JcaX509CertificateConverter().getCertificate(h);
        }
    }

    private static PrivateKey readKey(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException(file + " does not exist or cannot be read");
        }
        try (PEMParser p = new PEMParser(Files.newBufferedReader(file))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                return conv.getKeyPair(pair).getPrivate();
            }
            throw new IOException(file + " holds no private key");
        }
    }
}
