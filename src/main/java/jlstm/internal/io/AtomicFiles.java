package jlstm.internal.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that it appears complete or not at all: the bytes go to a temporary file in
 * the same folder, which is forced to disk and then renamed over the target. On failure the
 * temporary file is removed and an existing target is left as it was.
 *
 * <p>Only a regular file (or a path where nothing is yet) is ever replaced: a target that is a
 * folder, a FIFO, a device, a socket or a dangling symbolic link is refused
 * ({@link #requireReplaceable}) before anything is written, since renaming over it would put a
 * regular file in the place of, say, {@code /dev/null}.
 *
 * <p>Temporary names fit the file system's 255-byte limit on a name whatever the target's length
 * (a long target name is shortened and a hash of it added). A write killed before its rename
 * leaves its temporary file behind; the next write to the same path removes it. A temporary file
 * is locked while it is written, so only those of dead writers are removed, never one of a write
 * still running in another process.
 *
 * <p>Permissions: a new file gets the process's usual ones (0666 minus the umask, as a shell
 * redirection would), not the 0600 of a temporary file; a replaced file keeps its mode. When the
 * target is a symbolic link, the file it points to is replaced and the link stays.
 */
public final class AtomicFiles {
    /** The longest file name (in UTF-8 bytes) most file systems accept (Linux NAME_MAX). */
    static final int MAX_NAME_BYTES = 255;
    private static final String SUFFIX = ".tmp";
    /** Temporary files this JVM is writing now: never opened by the stale-file cleanup (see removeStale). */
    private static final Set<Path> WRITING = ConcurrentHashMap.newKeySet();

    private AtomicFiles() {
    }

    /** What fills the temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Throws unless {@code target} may be replaced by a new regular file: it does not exist (and
     * is not a dangling symbolic link), or it is a regular file (or a link to one). Its folder must
     * exist.
     *
     * @throws IOException naming the target and what it is instead of a regular file
     */
    public static void requireReplaceable(Path target) throws IOException {
        if (Files.isSymbolicLink(target) && !Files.exists(target)) {
            throw new FileSystemException(target.toString(), null, "is a symbolic link to "
                    + Files.readSymbolicLink(target) + ", which does not exist (a dangling link); give another file"
                    + " name or fix the link");
        }
        if (Files.isDirectory(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "is a folder, not a file");
        }
        if (Files.exists(target) && !Files.isRegularFile(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "is " + kindOf(target) + ", not a regular"
                    + " file; only a regular file is replaced (the output is written beside it and renamed over it)");
        }
        Path dir = target.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new NoSuchFileException(target.toString(), null, "folder " + dir + " does not exist");
        }
    }

    /** "a FIFO (named pipe)", "a device", … for a path that exists and is not a regular file. */
    private static String kindOf(Path path) {
        try {
            Object type = Files.getAttribute(path, "unix:mode");
            int mode = (Integer) type & 0170000;
            return switch (mode) {
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | RuntimeException e) {
            return "a special file";
        }
    }

    /** Writes {@code content} to {@code target} atomically (see the class comment). */
    public static void write(Path target, Content content) throws IOException {
        requireReplaceable(target);
        Path file = resolveLink(target);
        Path dir = file.toAbsolutePath().getParent();
        String stem = temporaryStem(file.getFileName().toString());
        removeStale(dir, stem);
        Path tmp = null;
        FileChannel ch = null;
        boolean done = false;
        try {
            for (int attempt = 0; ch == null; attempt++) {
                tmp = dir.resolve(stem + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                        + SUFFIX);
                try {
                    // Created without explicit permissions, so the umask applies as for any new file
                    // (Files.createTempFile would force 0600).
                    ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt > 100) {
                        throw e;
                    }
                }
            }
            WRITING.add(tmp);
            try {
                ch.tryLock(); // marks the file as in use for other processes' cleanup; released when ch closes
            } catch (IOException e) {
                // a file system without locks: the write goes on, only its cleanup is less sure
            }
            content.writeTo(ch);
            ch.force(true);
            keepMode(file, tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            try {
                if (!done && tmp != null) {
                    Files.deleteIfExists(tmp);
                }
            } finally {
                if (ch != null) {
                    ch.close();
                }
                if (tmp != null) {
                    WRITING.remove(tmp);
                }
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
     * The fixed start of the temporary names for a target name: {@code .NAME}, or, when a
     * temporary name built on it would pass {@value #MAX_NAME_BYTES} bytes, {@code .PREFIX~HASH}
     * (the name cut to fit, plus a hash of the whole name). A temporary name is the stem, a dot,
     * up to 13 base-36 digits and {@code .tmp}.
     */
    static String temporaryStem(String name) {
        int room = MAX_NAME_BYTES - 1 - 1 - 13 - SUFFIX.length(); // "." + name + "." + digits + ".tmp"
        if (utf8Length(name) <= room) {
            return "." + name;
        }
        String hash = String.format("%08x", name.hashCode());
        int keep = room - 1 - hash.length();
        StringBuilder prefix = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int n = utf8Length(new String(Character.toChars(cp)));
            if (bytes + n > keep) {
                break;
            }
            prefix.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return "." + prefix + "~" + hash;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * Removes temporary files of earlier writes to the same target that were killed before their
     * rename: names of the form STEM.DIGITS.tmp, regular files, not being written by this JVM and
     * not locked by another process (a running writer holds a lock on its file; a dead one's lock
     * is gone). Failures are ignored: cleaning up is a courtesy, not part of the write.
     */
    private static void removeStale(Path dir, String stem) {
        String start = stem + ".";
        try (DirectoryStream<Path> candidates = Files.newDirectoryStream(dir,
                p -> isTemporaryOf(p.getFileName().toString(), start))) {
            for (Path candidate : candidates) {
                if (WRITING.contains(candidate) || !Files.isRegularFile(candidate, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (FileChannel ch = FileChannel.open(candidate, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    FileLock lock = ch.tryLock();
                    if (lock != null) {
                        Files.deleteIfExists(candidate);
                        lock.release();
                    }
                } catch (IOException | OverlappingFileLockException e) {
                    // in use, gone already, or not ours to remove: leave it
                }
            }
        } catch (IOException | RuntimeException e) {
            // an unreadable folder: nothing to clean
        }
    }

    /** Whether {@code name} is START + base-36 digits + ".tmp". */
    static boolean isTemporaryOf(String name, String start) {
        if (!name.startsWith(start) || !name.endsWith(SUFFIX)) {
            return false;
        }
        String digits = name.substring(start.length(), name.length() - SUFFIX.length());
        if (digits.isEmpty() || digits.length() > 13) {
            return false;
        }
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
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
