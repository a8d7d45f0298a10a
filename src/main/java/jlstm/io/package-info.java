/**
 * File formats: the safetensors reader and writer (strictly validated) that carries models,
 * inputs, outputs and checkpoints between jlstm and other frameworks. Files are memory-mapped,
 * not loaded, so their size is not limited by the heap (each tensor whose values are used must
 * fit one Java array); every safetensors dtype is read, and F16, BF16 and F64 values convert to
 * float32 ({@link jlstm.io.SafetensorsEntry#toTensor()}). Writes are atomic (a temporary file, then a rename).
 */
package jlstm.io;
