// The host probe: how fast each CPU this process may use computes fp32 FMAs right now, all of
// them at the same time and each alone, in about a second. benchmarks/compare.sh runs it before
// every engine's timed command, so that each result can be read against the host's state (on a
// virtual machine the vCPUs move: another guest, the host's own frequency, steal).
//
//   together: one thread pinned to each CPU, all started at the same instant, each running the
//             FMA loop for the same wall-clock window; its GFLOP/s = its FLOPs / the window. Also
//             per slice of the window (0.1 s): the slowest CPU's GFLOP/s over the fastest's.
//   alone:    one thread pinned to each CPU in turn, the others idle.
//   on CPU:   the thread's CPU time / the wall-clock time (below 1: the thread waited, for another
//             process of this machine or, where the kernel accounts steal that way, for the host).
//   per CPU-second: GFLOP/s over the thread's CPU time, i.e. the core's speed while the thread ran
//             (below the peak: a lower clock, or the host running something on the same core).
//   steal:    /proc/stat's steal time of each CPU over the whole probe, in % of that CPU's time.
//
// The loop: 16 independent accumulators (AVX-512: 16 zmm, 512 FLOPs an iteration; AVX2: 16 ymm,
// 256), each updated a = a * m + c (converges to 1, no denormals, nothing to fold away), in
// chunks of 2^17 iterations (~0.5 ms); the wall clock is read between chunks only.
//
// Build: benchmarks/probe/build.sh (g++ -O2 -pthread).
// Usage: host_probe [--seconds S] [--label TEXT] [--json FILE]
//   --seconds S  the whole probe's length (default 1: half together, half alone split over the CPUs)
//   --json FILE  appends one JSON object (one line) to FILE
// Prints one line: host probe: together cpu0 148, cpu1 121 GFLOP/s (slowest/fastest 0.82, ...) ...
#include <errno.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

namespace {

double wall_s() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

double thread_cpu_s() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

constexpr long CHUNK = 1L << 17;  // iterations per timed chunk
volatile float sink;              // keeps the accumulators' result alive

#define FMA_BODY(SET1, FMADD, ADD, T)                                                              \
    const T m = SET1(0.9999f), c = SET1(1e-4f);                                                 \
    T a0 = SET1(0.1f), a1 = SET1(0.2f), a2 = SET1(0.3f), a3 = SET1(0.4f), a4 = SET1(0.5f),       \
      a5 = SET1(0.6f), a6 = SET1(0.7f), a7 = SET1(0.8f), a8 = SET1(0.9f), a9 = SET1(1.1f),       \
      a10 = SET1(1.2f), a11 = SET1(1.3f), a12 = SET1(1.4f), a13 = SET1(1.5f), a14 = SET1(1.6f),  \
      a15 = SET1(1.7f);                                                                          \
    for (long i = 0; i < iterations; i++) {                                                      \
        a0 = FMADD(a0, m, c); a1 = FMADD(a1, m, c); a2 = FMADD(a2, m, c); a3 = FMADD(a3, m, c);  \
        a4 = FMADD(a4, m, c); a5 = FMADD(a5, m, c); a6 = FMADD(a6, m, c); a7 = FMADD(a7, m, c);  \
        a8 = FMADD(a8, m, c); a9 = FMADD(a9, m, c); a10 = FMADD(a10, m, c);                      \
        a11 = FMADD(a11, m, c); a12 = FMADD(a12, m, c); a13 = FMADD(a13, m, c);                  \
        a14 = FMADD(a14, m, c); a15 = FMADD(a15, m, c);                                          \
    }                                                                                            \
    T s = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),                 \
              ADD(ADD(ADD(a8, a9), ADD(a10, a11)), ADD(ADD(a12, a13), ADD(a14, a15))));           \
    float out[sizeof(T) / sizeof(float)];                                                        \
    memcpy(out, &s, sizeof out);                                                                 \
    sink = out[0];

__attribute__((target("avx512f"))) void fma512(long iterations) {
    FMA_BODY(_mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, __m512)
}

__attribute__((target("avx2,fma"))) void fma256(long iterations) {
    FMA_BODY(_mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, __m256)
}

void (*kernel)(long) = nullptr;
double flops_per_chunk = 0;
const char *kernel_name = "";

struct Shared {
    pthread_barrier_t barrier;
    double start = 0, end = 0, slice = 0.1;  // the together window, on the wall clock
};

struct Worker {
    int cpu = 0;
    Shared *shared = nullptr;
    double flops = 0, seconds = 0, cpu_seconds = 0;
    std::vector<double> slice_flops;
    std::string error;
};

bool pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Runs the loop until the wall clock passes end, counting from start; chunks before start warm up.
void run_window(Worker &w, double start, double end, double slice) {
    while (wall_s() < start) kernel(CHUNK);
    double t0 = wall_s(), c0 = thread_cpu_s(), t = t0;
    w.flops = 0;
    w.slice_flops.assign(slice > 0 ? size_t((end - start) / slice + 1) : 0, 0.0);
    while (t < end) {
        kernel(CHUNK);
        t = wall_s();
        w.flops += flops_per_chunk;
        if (slice > 0) {
            size_t k = size_t((t - start) / slice);
            if (k < w.slice_flops.size()) w.slice_flops[k] += flops_per_chunk;
        }
    }
    w.seconds = t - t0;
    w.cpu_seconds = thread_cpu_s() - c0;
}

void *together(void *p) {
    Worker &w = *static_cast<Worker *>(p);
    if (!pin(w.cpu)) w.error = "cannot pin a thread to cpu" + std::to_string(w.cpu);
    pthread_barrier_wait(&w.shared->barrier);  // then main sets start and end
    pthread_barrier_wait(&w.shared->barrier);
    run_window(w, w.shared->start, w.shared->end, w.shared->slice);
    return nullptr;
}

void *alone(void *p) {
    Worker &w = *static_cast<Worker *>(p);
    if (!pin(w.cpu)) w.error = "cannot pin a thread to cpu" + std::to_string(w.cpu);
    run_window(w, w.shared->start, w.shared->end, 0);
    return nullptr;
}

// Per CPU, from /proc/stat: {steal, total} jiffies.
std::vector<std::pair<long long, long long>> steal_now(const std::vector<int> &cpus) {
    std::vector<std::pair<long long, long long>> out(cpus.size(), {0, 0});
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return out;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int cpu;
        long long v[8] = {0};
        if (sscanf(line, "cpu%d %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) < 9)
            continue;
        for (size_t i = 0; i < cpus.size(); i++) {
            if (cpus[i] != cpu) continue;
            long long total = 0;
            for (long long x : v) total += x;
            out[i] = {v[7], total};
        }
    }
    fclose(f);
    return out;
}

std::string json_escape(const std::string &s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    }
    return out;
}

std::string list(const std::vector<double> &v, const char *format) {
    std::string out = "[";
    char buf[64];
    for (size_t i = 0; i < v.size(); i++) {
        snprintf(buf, sizeof buf, format, v[i]);
        out += (i ? ", " : "") + std::string(buf);
    }
    return out + "]";
}

}  // namespace

int main(int argc, char **argv) {
    double seconds = 1.0;
    std::string label, json;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (i + 1 < argc && arg == "--seconds") {
            seconds = atof(argv[++i]);
        } else if (i + 1 < argc && arg == "--label") {
            label = argv[++i];
        } else if (i + 1 < argc && arg == "--json") {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: host_probe [--seconds S] [--label TEXT] [--json FILE]\n");
            return 2;
        }
    }
    if (!(seconds >= 0.1 && seconds <= 60)) {
        fprintf(stderr, "host_probe: --seconds must be 0.1 to 60\n");
        return 2;
    }
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        kernel = fma512, flops_per_chunk = CHUNK * 16 * 16 * 2.0, kernel_name = "avx512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel = fma256, flops_per_chunk = CHUNK * 16 * 8 * 2.0, kernel_name = "avx2";
    } else {
        fprintf(stderr, "host_probe: this CPU has neither AVX-512 nor AVX2 with FMA\n");
        return 1;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        perror("host_probe: sched_getaffinity");
        return 1;
    }
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    size_t n = cpus.size();
    auto steal0 = steal_now(cpus);

    // together: every CPU at once, for half the probe (after 20 ms of warm-up in each thread)
    Shared shared;
    pthread_barrier_init(&shared.barrier, nullptr, unsigned(n + 1));
    std::vector<Worker> both(n);
    std::vector<pthread_t> threads(n);
    for (size_t i = 0; i < n; i++) {
        both[i].cpu = cpus[i];
        both[i].shared = &shared;
        pthread_create(&threads[i], nullptr, together, &both[i]);
    }
    pthread_barrier_wait(&shared.barrier);
    shared.start = wall_s() + 0.02;
    shared.end = shared.start + seconds / 2;
    pthread_barrier_wait(&shared.barrier);
    for (size_t i = 0; i < n; i++) pthread_join(threads[i], nullptr);

    // alone: each CPU in turn, the other half split between them
    std::vector<Worker> solo(n);
    for (size_t i = 0; i < n; i++) {
        Shared s;
        s.start = wall_s() + 0.02;
        s.end = s.start + seconds / 2 / n;
        solo[i].cpu = cpus[i];
        solo[i].shared = &s;
        pthread_t t;
        pthread_create(&t, nullptr, alone, &solo[i]);
        pthread_join(t, nullptr);
    }
    auto steal1 = steal_now(cpus);
    for (auto *group : {&both, &solo})
        for (auto &w : *group)
            if (!w.error.empty()) {
                fprintf(stderr, "host_probe: %s\n", w.error.c_str());
                return 1;
            }

    std::vector<double> gf_both, gf_solo, on_both, on_solo, steal;
    for (size_t i = 0; i < n; i++) {
        gf_both.push_back(both[i].flops / both[i].seconds / 1e9);
        on_both.push_back(both[i].cpu_seconds / both[i].seconds);
        gf_solo.push_back(solo[i].flops / solo[i].seconds / 1e9);
        on_solo.push_back(solo[i].cpu_seconds / solo[i].seconds);
        long long dt = steal1[i].second - steal0[i].second;
        steal.push_back(dt > 0 ? 100.0 * double(steal1[i].first - steal0[i].first) / double(dt) : 0.0);
    }
    auto lo_hi = [](const std::vector<double> &v) {
        double lo = v[0], hi = v[0];
        for (double x : v) lo = x < lo ? x : lo, hi = x > hi ? x : hi;
        return std::make_pair(lo, hi);
    };
    double ratio = lo_hi(gf_both).first / lo_hi(gf_both).second;
    // per 0.1 s slice (whole slices only): the slowest CPU's FLOPs over the fastest's
    double slice_lo = 1, slice_hi = 0;
    size_t slices = size_t(seconds / 2 / shared.slice);
    for (size_t k = 0; k < slices; k++) {
        std::vector<double> v;
        for (auto &w : both) v.push_back(k < w.slice_flops.size() ? w.slice_flops[k] : 0);
        auto [lo, hi] = lo_hi(v);
        double r = hi > 0 ? lo / hi : 0;
        slice_lo = r < slice_lo ? r : slice_lo;
        slice_hi = r > slice_hi ? r : slice_hi;
    }
    if (slices == 0) slice_lo = slice_hi = ratio;

    std::string line = "host probe:";
    if (!label.empty()) line = "host probe (" + label + "):";
    char buf[256];
    line += " together";
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%s cpu%d %.0f", i ? "," : "", cpus[i], gf_both[i]);
        line += buf;
    }
    snprintf(buf, sizeof buf, " GFLOP/s (slowest/fastest %.2f, per %.1f s %.2f-%.2f), on CPU", ratio, shared.slice,
             slice_lo, slice_hi);
    line += buf;
    auto append = [&](const std::vector<double> &v, const char *format) {
        for (size_t i = 0; i < n; i++) {
            snprintf(buf, sizeof buf, format, i ? " /" : "", v[i]);
            line += buf;
        }
    };
    std::vector<double> pct(n), per_cpu_both(n), per_cpu_solo(n);
    for (size_t i = 0; i < n; i++) {
        pct[i] = 100 * on_both[i];
        per_cpu_both[i] = gf_both[i] / on_both[i];
        per_cpu_solo[i] = gf_solo[i] / on_solo[i];
    }
    append(pct, "%s %.0f%%");
    line += ", per CPU-second";
    append(per_cpu_both, "%s %.0f");
    line += "; alone";
    append(gf_solo, "%s %.0f");
    line += " (per CPU-second";
    append(per_cpu_solo, "%s %.0f");
    line += "); steal";
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%s %.1f%%", i ? " /" : "", steal[i]);
        line += buf;
    }
    snprintf(buf, sizeof buf, " [%s, fp32 FMA]", kernel_name);
    line += buf;
    printf("%s\n", line.c_str());

    if (!json.empty()) {
        FILE *f = fopen(json.c_str(), "a");
        if (!f) {
            fprintf(stderr, "host_probe: cannot append to %s: %s\n", json.c_str(), strerror(errno));
            return 1;
        }
        time_t now = time(nullptr);
        char utc[32];
        strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        std::vector<double> cpu_ids(cpus.begin(), cpus.end());
        fprintf(f,
                "{\"kind\": \"probe\", \"label\": \"%s\", \"utc\": \"%s\", \"kernel\": \"%s\", \"seconds\": %.2f, "
                "\"cpus\": %s, \"together_gflops\": %s, \"together_on_cpu\": %s, \"slowest_over_fastest\": %.3f, "
                "\"slice_s\": %.1f, \"slice_ratio_min\": %.3f, \"slice_ratio_max\": %.3f, \"alone_gflops\": %s, "
                "\"alone_on_cpu\": %s, \"together_gflops_per_cpu_s\": %s, \"alone_gflops_per_cpu_s\": %s, "
                "\"steal_pct\": %s}\n",
                json_escape(label).c_str(), utc, kernel_name, seconds, list(cpu_ids, "%.0f").c_str(),
                list(gf_both, "%.1f").c_str(), list(on_both, "%.3f").c_str(), ratio, shared.slice, slice_lo,
                slice_hi, list(gf_solo, "%.1f").c_str(), list(on_solo, "%.3f").c_str(), list(per_cpu_both, "%.1f").c_str(),
                list(per_cpu_solo, "%.1f").c_str(), list(steal, "%.2f").c_str());
        fclose(f);
    }
    return 0;
}
