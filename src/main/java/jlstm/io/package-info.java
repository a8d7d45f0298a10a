/**
 * File formats: the safetensors reader and writer (strictly validated) that carries models,
 * inputs, outputs and checkpoints between jlstm and other frameworks. Files are memory-mapped,
 * not loaded, so their size is not limited by the heap (each tensor whose values are used must
 * fit one Java array); every safetensors dtype is read, and F16, BF16 and F64 values convert to
 * float32 ({@link jlstm.io.SafetensorsEntry#toTensor()}). Writes are atomic: a file is written
 * beside its target and moved into place, so a reader never sees half a file.
 *
 * <p>{@link org.jspecify.annotations.NullMarked @NullMarked}: nothing is null unless annotated
 * {@link org.jspecify.annotations.Nullable @Nullable}.
 */
@NullMarked
package jlstm.io;

import org.jspecify.annotations.NullMarked;
