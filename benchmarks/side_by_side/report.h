// What the run prints and writes: the table (report.cpp), the targets (targets.cpp), the JSON
// file (json.cpp) and the plot (plot.cpp). All of them read the same cell summaries.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "common.h"
#include "resources.h"
#include "stats.h"

namespace sbs {

struct RunInfo {
    Settings settings;
    std::string started;  // local time, ISO 8601
    double elapsed_s = 0;
    std::string cpu_model;
    int cpus_online = 0;
    std::string kernel;
    std::array<double, 3> load_start{};
    std::array<double, 3> load_end{};
    std::vector<std::array<double, 3>> load_after_rep;
    SyscallCounting syscalls;
};

// Per-frame resource use of a streaming cell (writer + reader, unless named otherwise).
struct PerFrame {
    Spread faults;  // minor + major
    Spread major_faults;
    Spread syscalls;  // n == 0: not counted
    Spread switches;  // voluntary + involuntary
    Spread cpu_us;
    Spread writer_cpu_us;
    Spread reader_cpu_us;
};

// Everything said about one system in one row.
struct CellSummary {
    Row row;
    System system;
    int runs = 0;  // repetitions run
    int ok = 0;    // ... that succeeded
    Spread frames_per_s, gb_per_s, p50_ns, p99_ns, max_ns;
    Metric ratio_metric = Metric::frames_per_s;  // what vs_peer and vs_floor compare
    bool has_peer = false;
    Paired vs_peer;  // ours / best peer
    bool has_floor = false;
    Paired vs_floor;  // ours / the row's floor
    bool has_resources = false;
    PerFrame per_frame;
    std::vector<std::string> errors;  // distinct failure messages
};

CellSummary summarise_cell(const Results& results, Row row, System system);
std::string floor_label(Row row);  // "floor: SPSC ring"
// The row whose peers a row is compared with (zero-copy rows: the copy row of the same size).
Row peer_row(Row row);

void print_table(const Results& results, const RunInfo& info);

struct Target {
    std::string name;
    double value = 0;  // NaN: could not be measured
    bool at_least = true;  // value >= threshold passes, else value <= threshold
    bool strict = false;   // > or < instead
    double threshold = 0;
    bool is_ratio = true;   // shown as x1.23, else as a plain number
    double worst = 0;       // the worst repetition's ratio (NaN if not a paired ratio)
    std::string why_na;     // when value is NaN
    const char* status() const;  // "PASS", "BELOW" or "n/a"
};
std::vector<Target> evaluate_targets(const Results& results, const RunInfo& info);
void print_targets(const std::vector<Target>& targets, const RunInfo& info);

bool write_json(const std::string& path, const Results& results, const RunInfo& info,
                const std::vector<Target>& targets);
// Writes the plot data next to `json_path`, runs gnuplot with `script` and returns the PNG's
// path, or "" (with the reason on stderr) when it could not.
std::string write_plot(const std::string& json_path, const std::string& script, const Results& results,
                       const RunInfo& info);

std::string format_ns(double ns);
std::string format_ratio(double value);

}  // namespace sbs
