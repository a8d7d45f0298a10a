/**
 * The pure-Java engine: the reference every other backend is checked against, and the fallback
 * without a GPU. Float32 storage; the input projection of all steps is one matrix product; the
 * recurrent product and the fused pointwise cell update run per step on reused workspaces.
 * Glossary and layouts: see {@link jlstm}.
 */
package jlstm.cpu;
