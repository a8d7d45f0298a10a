# Sourced by run.sh, split_ab.sh and peer_ab.sh (from the repository root): the kernel versions
# they build, each a copy of src/main/native/kernels.inc wrapped with its vector width, as
# kernels_avx512.cpp / kernels_avx2.cpp do.

# kernel_cand WORK VW: the working tree's kernels as WORK/cand.inc, wrapped in WORK/cand.h.
kernel_cand() {
    cp src/main/native/kernels.inc "$1/cand.inc"
    kernel_wrap "$1" "$2" cand
}

# kernel_pair WORK VW BASE_REV BASE_FILE: the base as WORK/base.inc (BASE_FILE where given, else
# kernels.inc at git revision BASE_REV) and the candidate (the working tree's) as WORK/cand.inc,
# wrapped in WORK/base.h and WORK/cand.h.
kernel_pair() {
    if [ -n "$4" ]; then
        cp "$4" "$1/base.inc"
    else
        git show "$3:src/main/native/kernels.inc" > "$1/base.inc"
    fi
    kernel_wrap "$1" "$2" base
    kernel_cand "$1" "$2"
}

# kernel_wrap WORK VW NAME: WORK/NAME.h, which includes WORK/NAME.inc with VW defined.
kernel_wrap() {
    printf '#define VW %s\n#include "%s.inc"\n#undef VW\n' "$2" "$3" > "$1/$3.h"
}
