package jlstm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import jlstm.internal.io.AtomicFiles;

/** Refuses an output path that is one of the command's inputs, so that a typo never destroys a model. */
final class OutputGuard {
    private OutputGuard() {
    }

    /**
     * Checks before any work that an output file can be written: its folder exists, and it is a
     * regular file or does not exist yet; a folder, a FIFO, a device, a socket or a dangling
     * symbolic link is refused (writing renames a new file over the target, which would replace
     * such a file with a regular one), so a long run does not fail, or do harm, only at its end.
     */
    static void requireWritableFile(Path output, String option) throws IOException {
        if (Files.isDirectory(output)) {
            throw new IllegalArgumentException(option + " " + output + " is a folder; give a file name");
        }
        Path dir = output.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new java.nio.file.NoSuchFileException(output.toString(), null, option + ": folder " + dir
                    + " does not exist");
        }
        try {
            AtomicFiles.requireReplaceable(output);
        } catch (java.nio.file.FileSystemException e) {
            throw new IllegalArgumentException(option + " " + output + " " + e.getReason());
        }
    }

    /**
     * Throws when {@code output} names the same file as one of {@code inputs}, however spelled:
     * through a symbolic or hard link, {@code ..}, or a relative path. An output that does not
     * exist yet cannot be an input.
     *
     * @param option the output's option, for the message ({@code --output})
     * @param inputs option → path of each input (null paths are skipped)
     * @param advice what to do instead, e.g. "choose another --output"
     */
    static void refuseToReplace(Path output, String option, Map<String, Path> inputs, String advice)
            throws IOException {
        if (!Files.exists(output)) {
            return;
        }
        for (Map.Entry<String, Path> in : new java.util.TreeMap<>(inputs).entrySet()) {
            Path input = in.getValue();
            if (input != null && Files.exists(input) && Files.isSameFile(output, input)) {
                String how = output.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())
                        ? "" : " (through a link or another path)";
                throw new IllegalArgumentException(option + " " + output + " is the same file as " + in.getKey() + " "
                        + input + how + "; writing it would destroy that input: " + advice);
            }
        }
    }
}
