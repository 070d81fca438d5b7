// Deterministic, portable random numbers: SplitMix64 (seeding, hashing) and
// xoshiro256++ (streams), with our own float transforms, so the same seed
// gives the same bytes on every platform and standard library (the
// std::*_distribution classes are implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace avctl {

// One step of SplitMix64: a good 64-bit mixer of `x`.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Combines a seed with a stream label, e.g. DeriveSeed(seed, "actor", 1001).
inline uint64_t DeriveSeed(uint64_t seed, std::string_view label, uint64_t index = 0) {
  uint64_t h = SplitMix64(seed);
  for (unsigned char c : label) h = SplitMix64(h ^ c);
  return SplitMix64(h ^ SplitMix64(index + 0x632BE59BD9B4E019ULL));
}

// The stream of a named group (a speaker or session): a decimal name such
// as CREMA-D's actor "1001" is DeriveSeed(seed, label, 1001), the stream
// such groups always had; any other name is DeriveSeed(seed, label + ":" + name).
inline uint64_t DeriveGroupSeed(uint64_t seed, std::string_view label, std::string_view name) {
  bool numeric = !name.empty() && name.size() <= 18;
  uint64_t n = 0;
  for (char c : name) {
    numeric = numeric && c >= '0' && c <= '9';
    if (numeric) n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (numeric) return DeriveSeed(seed, label, n);
  std::string joined(label);
  joined += ':';
  joined += name;
  return DeriveSeed(seed, joined);
}

// A stream's whole state, for checkpoints: restoring it continues the stream
// exactly where it was.
struct RngState {
  uint64_t s[4] = {0, 0, 0, 0};
  double spare = 0.0;
  bool has_spare = false;
};

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) {
      x = SplitMix64(x);
      s = x;
    }
  }

  RngState state() const {
    RngState st;
    for (int i = 0; i < 4; ++i) st.s[i] = s_[i];
    st.spare = spare_;
    st.has_spare = has_spare_;
    return st;
  }
  void set_state(const RngState& st) {
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

  // xoshiro256++ (Blackman & Vigna, 2019).
  uint64_t Next() {
    const uint64_t result = Rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, negligible bias for small n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }

  // Standard normal by Box-Muller (exact), one value per call.
  double Gaussian() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = Uniform();
    double u2 = Uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double a = 6.283185307179586 * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

  // Fast approximately normal value (mean 0, variance 1): the sum of four
  // 16-bit uniforms, centred and scaled (Irwin-Hall, n = 4). Used for bulk
  // per-element noise where the exact tails do not matter.
  float FastGaussian() {
    uint64_t r = Next();
    uint32_t sum = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                   static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
    // Each term is uniform on {0..65535}: mean 32767.5, variance (65536^2-1)/12.
    constexpr float kMean = 4.0f * 32767.5f;
    constexpr float kInvStd = 1.0f / 37837.2262f;  // 1/sqrt(4*(65536^2-1)/12)
    return (static_cast<float>(sum) - kMean) * kInvStd;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace avctl
