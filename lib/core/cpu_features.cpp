// core/cpu_features.cpp - CPUID/XCR0 probing and the one-time ISA choice.
#include "core/cpu_features.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define EMBER_X86 1
#endif

namespace ember {
namespace {

#ifdef EMBER_X86
struct Regs {
    unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub) {
    Regs r;
    if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) return Regs{};
    return r;
}

// xgetbv is only legal when CPUID says OSXSAVE; the caller checks that first. Inline asm
// rather than the intrinsic so this file needs no -mxsave.
uint64_t xgetbv0() {
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t{hi} << 32) | lo;
}

CpuFeatures detect() {
    CpuFeatures f;
    const unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 1) return f;
    const Regs l1 = cpuid(1, 0);
    const bool osxsave = (l1.c >> 27) & 1;
    const bool avx = (l1.c >> 28) & 1;
    f.fma = (l1.c >> 12) & 1;
    f.f16c = (l1.c >> 29) & 1;
    if (osxsave) {
        const uint64_t xcr0 = xgetbv0();
        f.os_ymm = (xcr0 & 0x6) == 0x6;             // XMM | YMM
        f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask | ZMM_Hi256 | Hi16_ZMM
    }
    if (max_leaf >= 7) {
        const Regs l7 = cpuid(7, 0);
        f.avx2 = avx && ((l7.b >> 5) & 1);
        f.avx512f = (l7.b >> 16) & 1;
        f.avx512dq = (l7.b >> 17) & 1;
        f.avx512bw = (l7.b >> 30) & 1;
        f.avx512vl = (l7.b >> 31) & 1;
        f.avx512vnni = (l7.c >> 11) & 1;
        if (l7.a >= 1) {
            const Regs l71 = cpuid(7, 1);
            f.avxvnni = (l71.a >> 4) & 1;
            f.avx512bf16 = (l71.a >> 5) & 1;
        }
    }
    // Instructions the OS does not save state for are unusable: clear them here so every
    // later check is just the flag.
    if (!f.os_ymm) f.avx2 = f.fma = f.f16c = f.avxvnni = false;
    if (!f.os_zmm) f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = f.avx512vnni = f.avx512bf16 = false;
    return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

void log_to_stderr(std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
}

std::atomic<IsaLogHook> g_log_hook{&log_to_stderr};

void log_line(const std::string &line) { g_log_hook.load()(line); }

Isa choose() {
    const Isa best = best_isa();
    const char *env = std::getenv("EMBER_ISA");
    if (env == nullptr || *env == '\0') {
        log_line(fmt::format("ember: using {} kernels", isa_name(best)));
        return best;
    }
    const std::optional<Isa> forced = parse_isa(env);
    if (!forced) {
        log_line(fmt::format("ember: warning: EMBER_ISA={} is not one of scalar, avx2, avxvnni, "
                             "avx512, avx512vnni; using {} kernels", env, isa_name(best)));
        return best;
    }
    if (!isa_supported(*forced)) {
        log_line(fmt::format("ember: warning: EMBER_ISA={} is not supported by this CPU/OS; "
                             "using {} kernels", env, isa_name(best)));
        return best;
    }
    log_line(fmt::format("ember: using {} kernels (forced by EMBER_ISA)", isa_name(*forced)));
    return *forced;
}

}  // namespace

const CpuFeatures &cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

bool isa_supported(Isa isa) {
    const CpuFeatures &f = cpu_features();
    const bool avx2 = f.avx2 && f.fma && f.f16c;
    const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
    switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return avx2;
    case Isa::avx512: return avx512;
    case Isa::avx512vnni: return avx512 && f.avx512vnni;
    case Isa::avxvnni: return avx2 && f.avxvnni;
    }
    return false;
}

Isa best_isa() {
    for (Isa isa : {Isa::avx512vnni, Isa::avx512, Isa::avxvnni, Isa::avx2})
        if (isa_supported(isa)) return isa;
    return Isa::scalar;
}

Isa active_isa() {
    static const Isa isa = choose();
    return isa;
}

std::string_view isa_name(Isa isa) {
    switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::avxvnni: return "avxvnni";
    }
    return "unknown";
}

std::optional<Isa> parse_isa(std::string_view name) {
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::avx512vnni, Isa::avxvnni})
        if (name == isa_name(isa)) return isa;
    return std::nullopt;
}

void set_isa_log_hook(IsaLogHook hook) { g_log_hook.store(hook != nullptr ? hook : &log_to_stderr); }

}  // namespace ember
