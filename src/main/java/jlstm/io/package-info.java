/**
 * File formats: the safetensors reader and writer (strictly validated) that carries models,
 * inputs, outputs and checkpoints between jlstm and other frameworks.
 */
package jlstm.io;
