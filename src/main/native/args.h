// Slots of the long[] argument vector of NativeKernels.forward / backward (jlstm.internal.cpu.NativeLstm
// fills them; the numbers must match its constants). Pointers are native addresses.
// Per-step arrays are packed (jlstm.internal.cpu.LengthSchedule): N = Σ lengths rows, step t's active
// sequences at rows offset(t) + j, j < n_t; with every length T, N = T·B and row t·B + b.
// R = the width of h: Rp = P rounded up to the unit block under a projection, else Hp.
#pragma once

enum ForwardArg {
    A_X,         // layer input [N][ldx], K columns used
    A_LDX,       // its row stride
    A_K,         // K: the layer's (padded) input width
    A_WIH,       // W_ihᵀ packed: Hp/W panels [K][4W]
    A_WHH,       // W_hhᵀ packed: Hp/W panels [Rp][4W]
    A_BIAS,      // b_ih + b_hh in engine gate order [4Hp], or 0 without bias
    A_G,         // gates [N][4Hp]: pre-activations; activated gates after a training pass
    A_C,         // cell states [N][Hp]
    A_HOUT,      // hidden states: the layer output [N][ldh] at this direction's column offset
    A_LDH,       // its row stride (D·Rp)
    A_H0,        // [B][Rp], by sorted position
    A_C0,        // [B][Hp], by sorted position
    A_SCHEDULE,  // int32 [T' + 1] row offsets, then int32 [T'] active batch sizes n_t
    A_T,         // T': the longest length
    A_B,
    A_H,         // H: the real units (lanes past H in the last unit block stay zero)
    A_HP,        // Hp: H rounded up to the unit block
    A_P,         // P, 0 without projection
    A_RP,        // Rp
    A_REVERSE,   // 1: the direction walks time backwards
    A_TRAINING,  // 1: keep the activated gates for the backward pass
    A_BARRIER,   // a zeroed 256-byte block, 64-byte aligned, shared by the workers
    A_ROWS,      // int32 [workers + 1]: worker w runs positions [rows[w], rows[w+1]); 0: units split
    A_M,         // m_t = o ⊙ tanh(c_t) [N][Hp] under a projection, else 0 (h_t is m_t)
    A_WHR,       // W_hrᵀ panels ⌈P/4W⌉ × [Hp][4W] under a projection, else 0
    A_COUNT
};

enum BackwardArg {
    B_X,               // the layer input [N][ldx] (as in the forward pass)
    B_LDX,
    B_K,
    B_WIH,             // W_ih in engine row order, panels over its K columns: ⌈K/4W⌉ × [4Hp][4W]
    B_WHH,             // W_hh in engine row order, panels over its Rp columns: ⌈Rp/4W⌉ × [4Hp][4W]
    B_G,               // activated gates from the training pass [N][4Hp]
    B_C,               // cell states [N][Hp]
    B_HOUT,            // hidden states [N][ldh] at this direction's column offset
    B_LDH,
    B_H0,              // [B][Rp]
    B_C0,              // [B][Hp]
    B_DY,              // gradient of this direction's output [N][ldy] at its column offset
    B_LDY,
    B_DG,              // scratch: dG [N][4Hp]
    B_DHC,             // [B][Rp]: dhn on entry, dh0 on return (by sorted position)
    B_DCC,             // [B][Hp]: dcn on entry, dc0 on return
    B_DX,              // gradient of the layer input [N][K]
    B_DX_ACCUMULATE,   // 1: add to it (the second direction)
    B_DWIH,            // [4Hp][K], engine row order
    B_DWHH,            // [4Hp][Rp], engine row order
    B_DB,              // [4Hp], engine order, or 0 without bias
    B_SCHEDULE,        // as A_SCHEDULE
    B_PREV,            // int32 [N]: the row packed row r read as h_prev, or −1 − j for h0 row j
    B_T,
    B_B,
    B_H,
    B_HP,
    B_P,
    B_RP,
    B_REVERSE,
    B_BARRIER,
    B_ROWS,            // as A_ROWS
    B_M,               // m_t [N][Hp] (projection), else 0
    B_WHR,             // W_hr panels ⌈Hp/4W⌉ × [Rp][4W] (projection), else 0
    B_DH,              // scratch: dh_t [N][Rp] (projection)
    B_DM,              // scratch: dm_t [B][Hp] (projection)
    B_DWHR,            // dW_hr [P][Hp] (projection)
    B_COUNT
};
