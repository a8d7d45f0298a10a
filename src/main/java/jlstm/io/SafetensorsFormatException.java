package jlstm.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that is malformed; the message names the file and, where known, the tensor. */
public final class SafetensorsFormatException extends IOException {
    /**
     * An exception naming the file.
     *
     * @param file    the file that is malformed
     * @param message what is wrong, and where (the tensor, the header field)
     */
    public SafetensorsFormatException(Path file, String message) {
        super(file + ": " + message);
    }
}
