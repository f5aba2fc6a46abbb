// Percentiles of latency samples, spreads over repetitions, paired ratios, and the table of all
// measurements of a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.h"

namespace sbs {

// Latency samples (nanoseconds) with a fixed capacity, allocated and touched up front so that
// recording takes no page fault and no allocation.
class SampleBuffer {
public:
    explicit SampleBuffer(std::size_t capacity);
    bool add(std::uint64_t ns) noexcept {  // false when full
        if (size_ == data_.size()) return false;
        data_[size_++] = ns > 0xFFFF'FFFFu ? 0xFFFF'FFFFu : static_cast<std::uint32_t>(ns);
        return true;
    }
    // Stores count, p50, p99 and max (nearest-rank percentiles) into m; reorders the samples.
    void summarise_into(Measurement& m);

private:
    std::vector<std::uint32_t> data_;
    std::size_t size_ = 0;
};

struct Spread {
    int n = 0;  // repetitions that produced a value
    double median = 0;
    double min = 0;
    double max = 0;
};
Spread spread(std::vector<double> values);

enum class Metric { frames_per_s, gb_per_s, p50, p99, max };
double metric_value(const Measurement& m, Metric metric);
bool higher_is_better(Metric metric);

// Every measurement of a run: cell(row, system)[rep]. A cell is empty when the system does not
// run that row.
class Results {
public:
    explicit Results(int reps);
    int reps() const { return reps_; }
    std::vector<Measurement>& cell(Row row, System system);
    const std::vector<Measurement>& cell(Row row, System system) const;
    bool has(Row row, System system) const { return !cell(row, system).empty(); }

    // The relay rows have no measured floor: it is 2 x (futex wake p50 + one 3,110,400 B memcpy),
    // from the same repetition's futex and memcpy floors.
    void derive_relay_floors();

private:
    int reps_;
    std::vector<Measurement> cells_[kRowCount][kSystemCount];
};

// One ratio per repetition (ours / reference, NaN where either failed) and its spread.
struct Paired {
    std::vector<double> per_rep;
    Spread spread;
};
Paired paired_ratio(const std::vector<Measurement>& ours, const std::vector<Measurement>& reference, Metric metric);

// Per repetition, the best of the peers (kPeers) that ran this row; empty if none did.
std::vector<Measurement> best_peer(const Results& results, Row row, Metric metric);

}  // namespace sbs
