// Slots of the long[] argument vector of NativeKernels.forward / backward (jlstm.cpu.NativeLstm
// fills them; the numbers must match its constants). Pointers are native addresses.
#pragma once

enum ForwardArg {
    A_X,         // layer input [T·B][ldx], K columns used
    A_LDX,       // its row stride
    A_K,         // K: the layer's (padded) input width
    A_WIH,       // W_ihᵀ packed: Hp/W panels [K][4W]
    A_WHH,       // W_hhᵀ packed: Hp/W panels [Hp][4W]
    A_BIAS,      // b_ih + b_hh in engine gate order [4Hp], or 0 without bias
    A_G,         // gates [T·B][4Hp]: pre-activations; activated gates after a training pass
    A_C,         // cell states [T·B][Hp]
    A_HOUT,      // hidden states: the layer output [T·B][ldh] at this direction's column offset
    A_LDH,       // its row stride (D·Hp)
    A_H0,        // [B][Hp]
    A_C0,        // [B][Hp]
    A_T,
    A_B,
    A_HP,        // Hp: H rounded up to the unit block
    A_REVERSE,   // 1: the direction walks time backwards
    A_TRAINING,  // 1: keep the activated gates for the backward pass
    A_BARRIER,   // a zeroed 256-byte block, 64-byte aligned, shared by the workers
    A_SOLO_LOOP, // 1: worker 0 runs the time loop alone (small steps); the products stay split
    A_H,         // H: the real units; lanes [H, Hp) are padding, kept at zero
    A_COUNT
};

enum BackwardArg {
    B_X,               // the layer input [T·B][ldx] (as in the forward pass)
    B_LDX,
    B_K,
    B_WIH,             // W_ih in engine row order, panels over its K columns: ⌈K/4W⌉ × [4Hp][4W]
    B_WHH,             // W_hh in engine row order, panels over its Hp columns: ⌈Hp/4W⌉ × [4Hp][4W]
    B_G,               // activated gates from the training pass [T·B][4Hp]
    B_C,               // cell states [T·B][Hp]
    B_HOUT,            // hidden states [T·B][ldh] at this direction's column offset
    B_LDH,
    B_H0,              // [B][Hp]
    B_C0,              // [B][Hp]
    B_DY,              // gradient of this direction's output [T·B][ldy] at its column offset
    B_LDY,
    B_DG,              // scratch: dG [T·B][4Hp]
    B_DHC,             // [B][Hp]: dhn on entry, dh0 on return
    B_DCC,             // [B][Hp]: dcn on entry, dc0 on return
    B_DX,              // gradient of the layer input [T·B][K]
    B_DX_ACCUMULATE,   // 1: add to it (the second direction)
    B_DWIH,            // [4Hp][K], engine row order
    B_DWHH,            // [4Hp][Hp], engine row order
    B_DB,              // [4Hp], engine order, or 0 without bias
    B_T,
    B_B,
    B_HP,
    B_REVERSE,
    B_BARRIER,
    B_SOLO_LOOP,       // 1: worker 0 runs the time loop alone; the weight gradients and dX stay split
    B_H,               // H: the real units; lanes [H, Hp) of dG and dc are kept at zero
    B_COUNT
};
