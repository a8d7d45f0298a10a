// cell_math_check.cpp — host-only driver for cuda/lstm_cell_math.cuh, so CI (no GPU) can check
// the kernels' per-element math against jlstm.internal.cpu.CellMath (see CellMathHostTest).
//
// Reads lines from stdin, answers one line each on stdout (floats printed with %.9g, exact):
//   F pre_i pre_f pre_g pre_o c_prev               → i f g o c h
//   B i f g o c c_prev dh dc_next                  → di df dg do dc_prev
#include <cstdio>
#include <cstring>

#include "lstm_cell_math.cuh"

int main() {
    char kind[4];
    while (std::scanf("%3s", kind) == 1) {
        if (std::strcmp(kind, "F") == 0) {
            float pi, pf, pg, po, c_prev;
            if (std::scanf("%f %f %f %f %f", &pi, &pf, &pg, &po, &c_prev) != 5) return 2;
            LstmGates a = lstm_activate(pi, pf, pg, po);
            float c = lstm_cell_update(a, c_prev);
            std::printf("%.9g %.9g %.9g %.9g %.9g %.9g\n", a.i, a.f, a.g, a.o, c, lstm_hidden(a, c));
        } else if (std::strcmp(kind, "B") == 0) {
            LstmGates a;
            float c, c_prev, dh, dc_next;
            if (std::scanf("%f %f %f %f %f %f %f %f", &a.i, &a.f, &a.g, &a.o, &c, &c_prev, &dh, &dc_next) != 8) return 2;
            LstmGateGrads r = lstm_gate_grads(a, c, c_prev, dh, dc_next);
            std::printf("%.9g %.9g %.9g %.9g %.9g\n", r.di, r.df, r.dg, r.dout, r.dc_prev);
        } else {
            return 3;
        }
    }
    return 0;
}
