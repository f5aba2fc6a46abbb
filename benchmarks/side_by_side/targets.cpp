// The project's performance targets, checked against paired ratios from this very run. They are
// floors to watch, not asserts: the program's exit status never depends on them.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "report.h"

namespace sbs {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPerFrameZero = 0.001;  // "0 per frame": fewer than one in a thousand frames

class TargetList {
public:
    explicit TargetList(const Results& results) : results_(results) {}

    // ours / reference, paired per repetition; the target is on the median of the ratios.
    void ratio(const char* name, Row row, System ours, System reference, Metric metric, bool at_least,
               double threshold, bool strict = false) {
        Target t = make(name, at_least, threshold, strict);
        if (!results_.has(row, ours) || !results_.has(row, reference)) {
            t.why_na = "not measured in this run";
        } else {
            const Paired p = paired_ratio(results_.cell(row, ours), results_.cell(row, reference), metric);
            if (p.spread.n == 0) t.why_na = "no repetition in which both succeeded";
            t.value = p.spread.n > 0 ? p.spread.median : kNaN;
            t.worst = at_least ? p.spread.min : p.spread.max;
        }
        list.push_back(t);
    }

    // The largest per-frame median of `field` over zerobuffer C++<->C++ streaming rows.
    void per_frame(const char* name, Spread PerFrame::*field, const std::string& why_not_counted) {
        Target t = make(name, false, kPerFrameZero, true);
        t.is_ratio = false;
        for (const RowInfo& row : kRows) {
            if (row.kind != Kind::throughput || !results_.has(row.row, System::zerobuffer)) continue;
            const CellSummary c = summarise_cell(results_, row.row, System::zerobuffer);
            const Spread& s = c.per_frame.*field;
            if (s.n == 0) continue;
            t.value = std::isnan(t.value) ? s.median : std::max(t.value, s.median);
            t.worst = std::isnan(t.worst) ? s.max : std::max(t.worst, s.max);
        }
        if (std::isnan(t.value)) t.why_na = why_not_counted.empty() ? "no streaming row measured" : why_not_counted;
        list.push_back(t);
    }

    std::vector<Target> list;

private:
    static Target make(const char* name, bool at_least, double threshold, bool strict) {
        Target t;
        t.name = name;
        t.value = kNaN;
        t.worst = kNaN;
        t.at_least = at_least;
        t.threshold = threshold;
        t.strict = strict;
        return t;
    }
    const Results& results_;
};

std::string threshold_text(const Target& t) {
    char buffer[48];
    if (!t.is_ratio) {
        std::snprintf(buffer, sizeof buffer, "0 (< %.3f)", t.threshold);
    } else {
        const char* op = t.at_least ? (t.strict ? ">" : ">=") : (t.strict ? "<" : "<=");
        std::snprintf(buffer, sizeof buffer, "%s x%.2f", op, t.threshold);
    }
    return buffer;
}

std::string value_text(const Target& t) {
    if (std::isnan(t.value)) return "n/a";
    char buffer[64];
    if (t.is_ratio) {
        std::snprintf(buffer, sizeof buffer, "x%.2f (worst x%.2f)", t.value, t.worst);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.4f (worst %.4f)", t.value, t.worst);
    }
    return buffer;
}

}  // namespace

const char* Target::status() const {
    if (std::isnan(value)) return "n/a";
    const bool pass = at_least ? (strict ? value > threshold : value >= threshold)
                               : (strict ? value < threshold : value <= threshold);
    return pass ? "PASS" : "BELOW";
}

std::vector<Target> evaluate_targets(const Results& results, const RunInfo& info) {
    TargetList t(results);
    const System zb = System::zerobuffer;
    t.ratio("64 B streaming: C++<->C++ / Boost", Row::stream_64, zb, System::boost_mq, Metric::frames_per_s, true, 1.5);
    t.ratio("64 B streaming: C++<->C++ / SPSC floor", Row::stream_64, zb, System::floor, Metric::frames_per_s, true,
            0.9);
    t.ratio("64 B streaming: foreign-peer / Boost", Row::stream_64, System::zerobuffer_foreign, System::boost_mq,
            Metric::frames_per_s, true, 1.3);
    t.ratio("64 B one-way awake p50 / cache-line floor", Row::awake_64, zb, System::floor, Metric::p50, false, 2.5);
    t.ratio("64 B one-way asleep p50 / futex floor", Row::asleep_64, zb, System::floor, Metric::p50, false, 1.1);
    t.ratio("64 B one-way asleep p99 / futex floor p99", Row::asleep_64, zb, System::floor, Metric::p99, false, 1.3);
    t.ratio("64 B one-way asleep p99 / Boost p99", Row::asleep_64, zb, System::boost_mq, Metric::p99, false, 1.0,
            true);
    t.ratio("1 MiB copy streaming / memcpy floor", Row::stream_1m_copy, zb, System::floor, Metric::frames_per_s, true,
            0.95);
    t.ratio("3,110,400 B copy streaming / memcpy floor", Row::stream_3m_copy, zb, System::floor,
            Metric::frames_per_s, true, 0.95);
    t.ratio("3.1 MB relay steady p50 / floor", Row::relay_steady, zb, System::floor, Metric::p50, false, 1.05);
    t.ratio("3.1 MB relay steady p99 / floor", Row::relay_steady, zb, System::floor, Metric::p99, false, 1.3);
    t.per_frame("steady streaming: page faults per frame", &PerFrame::faults, "");
    t.per_frame("steady streaming: syscalls per frame", &PerFrame::syscalls, info.syscalls.why_not);
    return t.list;
}

void print_targets(const std::vector<Target>& targets, const RunInfo& info) {
    std::printf("\n== Targets: the project's performance floors, on paired ratios of this run (median of %d "
                "repetition(s)); printed, never asserted\n",
                info.settings.reps);
    const char* line = "%-46s %-26s %-13s %s\n";
    std::printf(line, "target", "measured (worst rep)", "threshold", "status");
    int pass = 0, below = 0;
    for (const Target& t : targets) {
        const std::string status = t.status();
        std::printf(line, t.name.c_str(), value_text(t).c_str(), threshold_text(t).c_str(), status.c_str());
        if (!t.why_na.empty()) std::printf("    ^ n/a: %s\n", t.why_na.c_str());
        pass += status == "PASS" ? 1 : 0;
        below += status == "BELOW" ? 1 : 0;
    }
    std::printf("targets: %d PASS, %d BELOW, %d n/a (per-frame counts are over zerobuffer C++<->C++ streaming rows, "
                "the largest row median)\n",
                pass, below, static_cast<int>(targets.size()) - pass - below);
}

}  // namespace sbs
