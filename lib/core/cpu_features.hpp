// core/cpu_features.hpp - which SIMD instruction sets this CPU and OS let ember use.
//
// The choice is made once per process (the only mutable global state ember has, see
// DESIGN.md), logged by name, and can be forced with EMBER_ISA=scalar|avx2|avxvnni|avx512|avx512vnni.
// Support means CPUID reports the instructions *and* XCR0 says the OS saves the YMM/ZMM
// registers on a context switch; without the latter the instructions fault.
#pragma once

#include <optional>
#include <string_view>

namespace ember {

// Kernel families:
//   avx2       AVX2 + FMA + F16C
//   avx512     + AVX-512 F/BW/VL/DQ
//   avx512vnni + AVX-512 VNNI (vpdpbusd on zmm)
//   avxvnni    AVX2 + FMA + F16C + AVX-VNNI (VEX vpdpbusd on ymm; CPUs without AVX-512 have
//              it too, so it sits beside the AVX-512 levels, not above or below them)
// best_isa() prefers avx512vnni, avx512, avxvnni, avx2, scalar in that order.
enum class Isa { scalar = 0, avx2 = 1, avx512 = 2, avx512vnni = 3, avxvnni = 4 };
inline constexpr int k_isa_count = 5;

struct CpuFeatures {
    bool avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
    bool avx512vnni = false, avx512bf16 = false;
    bool avxvnni = false;     // VEX-encoded vpdpbusd on ymm (Alder Lake, Zen 5)
    bool os_ymm = false;      // XCR0: SSE and AVX state enabled
    bool os_zmm = false;      // XCR0: opmask and ZMM state enabled
};

// What CPUID/XCR0 report for this machine (computed once).
const CpuFeatures &cpu_features();

// Whether this machine can run kernels of the given family.
bool isa_supported(Isa isa);

// The best family this machine supports (ignores EMBER_ISA).
Isa best_isa();

// The family every kernel dispatch uses: best_isa(), or EMBER_ISA if set and supported.
// Chosen on first call, logged once through the log hook. Forcing an unsupported or
// unknown ISA logs a warning and falls back to best_isa(); it never crashes.
Isa active_isa();

std::string_view isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// Where the one-time "ISA chosen" line goes; the default writes to stderr. The runtime may
// route it into its own log. Not thread-safe against a concurrent first active_isa() call:
// set it at start-up.
using IsaLogHook = void (*)(std::string_view line);
void set_isa_log_hook(IsaLogHook hook);

}  // namespace ember
