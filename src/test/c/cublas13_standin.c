/*
 * cublas13_standin.c — a stand-in libcublas.so.13 for CublasForwardingTest (no GPU, no CUDA
 * libraries): two functions with cuBLAS's signatures whose effects the test can see.
 *   cublasCreate_v2       writes the handle 0x5eed, prints a line, returns CUBLAS_STATUS_SUCCESS
 *   cublasGetVersion_v2   with that handle: writes 130042 and returns success; else returns 77
 * Build: gcc -shared -fPIC -Wl,-soname,libcublas.so.13 -o libcublas.so.13 cublas13_standin.c
 */
#include <stdint.h>
#include <stdio.h>

int cublasCreate_v2(void **handle) {
    *handle = (void *) (uintptr_t) 0x5eed;
    printf("stand-in libcublas.so.13: cublasCreate_v2 reached\n");
    fflush(stdout);
    return 0;
}

int cublasGetVersion_v2(void *handle, int *version) {
    if (handle != (void *) (uintptr_t) 0x5eed) {
        return 77;
    }
    *version = 130042;
    return 0;
}
