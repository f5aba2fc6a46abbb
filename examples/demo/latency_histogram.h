// zerobuffer demo: the reader's latency histogram.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace demo {

// Log-linear histogram of nanosecond values: exact below 64, then 32 buckets per power of two
// (about 3 % resolution). Percentiles report the bucket's midpoint.
class LatencyHistogram {
public:
    void add(std::uint64_t ns) {
        ++counts_[bucket(ns)];
        ++total_;
        max_ = std::max(max_, ns);
    }
    void merge(const LatencyHistogram& other) {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
        total_ += other.total_;
        max_ = std::max(max_, other.max_);
    }
    void clear() { *this = LatencyHistogram{}; }
    std::uint64_t count() const { return total_; }
    std::uint64_t max() const { return max_; }
    std::uint64_t percentile(double p) const {
        if (total_ == 0) return 0;
        const auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(midpoint(i), max_);
        }
        return max_;
    }

private:
    static constexpr std::size_t kSub = 32;
    static std::size_t bucket(std::uint64_t v) {
        if (v < 64) return static_cast<std::size_t>(v);
        const int exp = 63 - std::countl_zero(v);  // >= 6
        const std::uint64_t sub = (v >> (exp - 5)) & (kSub - 1);
        return 64 + static_cast<std::size_t>(exp - 6) * kSub + static_cast<std::size_t>(sub);
    }
    static std::uint64_t midpoint(std::size_t b) {
        if (b < 64) return b;
        const int exp = static_cast<int>((b - 64) / kSub) + 6;
        const std::uint64_t sub = (b - 64) % kSub;
        const std::uint64_t low = (std::uint64_t{1} << exp) + (sub << (exp - 5));
        return low + (std::uint64_t{1} << (exp - 6));
    }
    std::array<std::uint64_t, 64 + 58 * kSub> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace demo
