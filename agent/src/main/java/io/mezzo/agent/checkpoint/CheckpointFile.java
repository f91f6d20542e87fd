package io.mezzo.agent.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * One protobuf message in a file, written atomically and read back only if intact.
 *
 * <pre>
 *   "MZC1" | CRC32 of the payload (4 bytes, big-endian) | payload (the message's bytes)
 * </pre>
 *
 * <p>Writing: a temporary file in the same directory, fsync, rename over the target, fsync of the
 * directory. A crash leaves the old file or the new one, never a mix. The checksum makes any damage (a
 * truncated copy, an editor, a bad disk) a clear {@link CorruptCheckpointException} instead of a message
 * that parses into nonsense: protobuf alone accepts most byte strings.
 *
 * <p>Stateless; any thread (the agent writes from its loop, reads at start). Public so that tests can
 * write checkpoints as an earlier agent would have.
 */
public final class CheckpointFile {

    private static final byte[] MAGIC = "MZC1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 4;

    private CheckpointFile() {}

    /** Writes {@code message} to {@code file} atomically, creating its directory if needed. */
    public static void write(Path file, Message message) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        byte[] payload = message.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer out = ByteBuffer.allocate(HEADER + payload.length);
        out.put(MAGIC).putInt((int) crc.getValue()).put(payload).flip();
        Path temp = dir.resolve("." + file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (out.hasRemaining()) {
                channel.write(out);
            }
            channel.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        syncDirectory(dir);
    }

    /**
     * Reads a message written by {@link #write}.
     *
     * @throws CorruptCheckpointException naming the file if it is damaged
     * @throws IOException if it cannot be read at all
     */
    public static <T extends Message> T read(Path file, Parser<T> parser) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < HEADER || !Arrays.equals(Arrays.copyOf(all, MAGIC.length), MAGIC)) {
            throw new CorruptCheckpointException(file, "not a Mezzo checkpoint (bad header, " + all.length
                    + " bytes)", null);
        }
        int expected = ByteBuffer.wrap(all, MAGIC.length, 4).getInt();
        CRC32 crc = new CRC32();
        crc.update(all, HEADER, all.length - HEADER);
        if ((int) crc.getValue() != expected) {
            throw new CorruptCheckpointException(file, "checksum mismatch (truncated or modified)", null);
        }
        try {
            return parser.parseFrom(ByteBuffer.wrap(all, HEADER, all.length - HEADER));
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptCheckpointException(file, "unreadable record: " + e.getMessage(), e);
        }
    }

    /** Makes a rename in {@code dir} durable. */
    static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the rename is still atomic.
        }
    }
}
