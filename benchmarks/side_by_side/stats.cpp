#include "stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace sbs {

SampleBuffer::SampleBuffer(std::size_t capacity) : data_(capacity, 1u) {}  // non-zero: pages touched

void SampleBuffer::summarise_into(Measurement& m) {
    m.samples = size_;
    if (size_ == 0) return;
    auto pick = [&](double p) {
        const auto k = static_cast<std::size_t>(p * static_cast<double>(size_ - 1) + 0.5);
        std::nth_element(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(k),
                         data_.begin() + static_cast<std::ptrdiff_t>(size_));
        return static_cast<double>(data_[k]);
    };
    m.p50_ns = pick(0.50);
    m.p99_ns = pick(0.99);
    m.max_ns = static_cast<double>(*std::max_element(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(size_)));
}

Spread spread(std::vector<double> values) {
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
    Spread s;
    s.n = static_cast<int>(values.size());
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    s.min = values.front();
    s.max = values.back();
    return s;
}

double metric_value(const Measurement& m, Metric metric) {
    if (!m.ok) return std::numeric_limits<double>::quiet_NaN();
    switch (metric) {
        case Metric::frames_per_s: return m.frames_per_s();
        case Metric::gb_per_s: return m.gb_per_s();
        case Metric::p50: return m.p50_ns;
        case Metric::p99: return m.p99_ns;
        case Metric::max: return m.max_ns;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

bool higher_is_better(Metric metric) { return metric == Metric::frames_per_s || metric == Metric::gb_per_s; }

Results::Results(int reps) : reps_(reps) {}

std::vector<Measurement>& Results::cell(Row row, System system) {
    return cells_[static_cast<int>(row)][static_cast<int>(system)];
}
const std::vector<Measurement>& Results::cell(Row row, System system) const {
    return cells_[static_cast<int>(row)][static_cast<int>(system)];
}

// The relay on fresh buffers has the steady relay's floor: a floor has no buffers to create.
void Results::derive_relay_floors() {
    const auto& steady = cell(Row::relay_steady, System::floor);
    if (steady.empty()) return;
    const bool measured = has(Row::relay_fresh, System::zerobuffer) || has(Row::relay_fresh, System::zerobuffer_foreign) ||
                          has(Row::relay_fresh, System::boost_mq);
    if (measured && cell(Row::relay_fresh, System::floor).empty()) cell(Row::relay_fresh, System::floor) = steady;
}

Paired paired_ratio(const std::vector<Measurement>& ours, const std::vector<Measurement>& reference, Metric metric) {
    Paired p;
    for (std::size_t r = 0; r < ours.size() && r < reference.size(); ++r) {
        const double a = metric_value(ours[r], metric);
        const double b = metric_value(reference[r], metric);
        p.per_rep.push_back(b > 0 ? a / b : std::numeric_limits<double>::quiet_NaN());
    }
    p.spread = spread(p.per_rep);
    return p;
}

std::vector<Measurement> best_peer(const Results& results, Row row, Metric metric) {
    std::vector<Measurement> best;
    for (System peer : kPeers) {
        const auto& cell = results.cell(row, peer);
        if (cell.empty()) continue;
        if (best.empty()) {
            best = cell;
            continue;
        }
        for (std::size_t r = 0; r < best.size() && r < cell.size(); ++r) {
            const double have = metric_value(best[r], metric);
            const double other = metric_value(cell[r], metric);
            const bool better = higher_is_better(metric) ? other > have : other < have;
            if (std::isnan(have) || better) best[r] = cell[r];
        }
    }
    return best;
}

}  // namespace sbs
