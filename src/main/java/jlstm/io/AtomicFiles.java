package jlstm.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that it appears complete or not at all: the bytes go to a temporary file in
 * the same folder, which is forced to disk and then renamed over the target. On failure the
 * temporary file is removed and an existing target is left as it was.
 *
 * <p>Permissions: a new file gets the process's usual ones (0666 minus the umask, as a shell
 * redirection would), not the 0600 of a temporary file; a replaced file keeps its mode. When the
 * target is a symbolic link, the file it points to is replaced and the link stays.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** What fills the temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Writes {@code content} to {@code target} atomically (see the class comment). */
    public static void write(Path target, Content content) throws IOException {
        Path file = resolveLink(target);
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new NoSuchFileException(target.toString(), null, "folder " + dir + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new FileAlreadyExistsException(target.toString(), null, "is a folder, not a file");
        }
        Path tmp = createTemporary(dir, file.getFileName().toString());
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                ch.force(true);
            }
            keepMode(file, tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes bytes atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** The file a symbolic link points to (followed to the end), or the path itself. */
    private static Path resolveLink(Path target) throws IOException {
        if (Files.isSymbolicLink(target) && Files.exists(target)) {
            return target.toRealPath();
        }
        return target;
    }

    /**
     * A new, empty, hidden file beside the target. Created without explicit permissions, so the
     * umask applies as for any new file (Files.createTempFile would force 0600).
     */
    private static Path createTemporary(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = (dir == null ? Path.of("") : dir).resolve("." + name + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    /** Gives the temporary file the mode of the file it replaces (when there is one, on POSIX systems). */
    private static void keepMode(Path file, Path tmp) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view != null) {
            Files.setPosixFilePermissions(tmp, view.readAttributes().permissions());
        }
    }
}
