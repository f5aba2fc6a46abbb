// Cell summaries and the table printed on stdout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "report.h"

namespace sbs {
namespace {

std::string printf_string(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

// 64 B rows in frames per second, larger frames in GB/s.
std::string format_rate(const RowInfo& info, double frames_per_s) {
    if (info.frame >= 4096) return printf_string("%.2f GB/s", frames_per_s * static_cast<double>(info.frame) / 1e9);
    if (frames_per_s >= 1e6) return printf_string("%.2f Mf/s", frames_per_s / 1e6);
    return printf_string("%.1f kf/s", frames_per_s / 1e3);
}

std::string format_paired(const Paired& p, Metric metric) {
    if (p.spread.n == 0) return "n/a";
    const double worst = higher_is_better(metric) ? p.spread.min : p.spread.max;
    return format_ratio(p.spread.median) + " (" + format_ratio(worst) + ")";
}

std::string format_per_frame(const Spread& s) {
    if (s.n == 0) return "n/a";
    return printf_string(s.median < 10 ? "%.4f" : "%.1f", s.median);
}

std::string system_label(Row row, System system) {
    return system == System::floor ? floor_label(row) : system_name(system);
}

void print_failures(const CellSummary& c) {
    if (c.ok == c.runs) return;
    std::printf("    ^ %d of %d repetition(s) failed: %s\n", c.runs - c.ok, c.runs,
                c.errors.empty() ? "?" : c.errors.front().c_str());
}

// Calls fn(row, summary, first_of_row) for every cell of the rows of `kind`, in table order.
template <class Fn>
void for_each_cell(const Results& results, Kind kind, Fn&& fn) {
    for (const RowInfo& row : kRows) {
        if (row.kind != kind) continue;
        bool first = true;
        for (System system : kAllSystems) {
            if (!results.has(row.row, system)) continue;
            first = !fn(row, summarise_cell(results, row.row, system), first) && first;
        }
    }
}

void add_once(std::vector<std::string>& list, const std::string& text) {
    if (std::find(list.begin(), list.end(), text) == list.end()) list.push_back(text);
}

}  // namespace

std::string format_ns(double ns) {
    if (std::isnan(ns)) return "n/a";
    if (ns < 1e3) return printf_string("%.0f ns", ns);
    if (ns < 1e4) return printf_string("%.2f us", ns / 1e3);
    if (ns < 1e5) return printf_string("%.1f us", ns / 1e3);
    if (ns < 1e6) return printf_string("%.0f us", ns / 1e3);
    return printf_string("%.2f ms", ns / 1e6);
}

std::string format_ratio(double value) { return std::isnan(value) ? "n/a" : printf_string("x%.2f", value); }

std::string floor_label(Row row) {
    const char* floor = row_info(row).floor;
    return std::string("floor: ") + (floor != nullptr ? floor : "none");
}

Row peer_row(Row row) {
    switch (row) {
        case Row::stream_4k_zero_copy: return Row::stream_4k_copy;
        case Row::stream_1m_zero_copy: return Row::stream_1m_copy;
        case Row::stream_3m_zero_copy: return Row::stream_3m_copy;
        default: return row;
    }
}

CellSummary summarise_cell(const Results& results, Row row, System system) {
    CellSummary c;
    c.row = row;
    c.system = system;
    const RowInfo& info = row_info(row);
    const std::vector<Measurement>& cell = results.cell(row, system);
    std::vector<double> fps, gbps, p50, p99, mx, faults, major, syscalls, switches, cpu, wcpu, rcpu;
    for (const Measurement& m : cell) {
        ++c.runs;
        if (!m.ok) {
            add_once(c.errors, m.error[0] != '\0' ? m.error : "not run");
            continue;
        }
        ++c.ok;
        if (info.kind == Kind::throughput) {
            fps.push_back(m.frames_per_s());
            gbps.push_back(m.gb_per_s());
        } else {
            p50.push_back(m.p50_ns);
            p99.push_back(m.p99_ns);
            mx.push_back(m.max_ns);
        }
        if (!m.has_resources || m.frames == 0) continue;
        const double frames = static_cast<double>(m.frames);
        const Resources& w = m.sender;
        const Resources& r = m.receiver;
        faults.push_back((w.minflt + w.majflt + r.minflt + r.majflt) / frames);
        major.push_back((w.majflt + r.majflt) / frames);
        if (w.syscalls >= 0 && r.syscalls >= 0) syscalls.push_back((w.syscalls + r.syscalls) / frames);
        switches.push_back(
            (w.voluntary_switches + w.involuntary_switches + r.voluntary_switches + r.involuntary_switches) / frames);
        cpu.push_back((w.cpu_us + r.cpu_us) / frames);
        wcpu.push_back(w.cpu_us / frames);
        rcpu.push_back(r.cpu_us / frames);
    }
    c.frames_per_s = spread(fps);
    c.gb_per_s = spread(gbps);
    c.p50_ns = spread(p50);
    c.p99_ns = spread(p99);
    c.max_ns = spread(mx);
    c.has_resources = !faults.empty();
    c.per_frame = PerFrame{spread(faults), spread(major), spread(syscalls), spread(switches),
                           spread(cpu),    spread(wcpu),  spread(rcpu)};

    c.ratio_metric = info.kind == Kind::throughput ? Metric::frames_per_s : Metric::p50;
    if (system == System::zerobuffer || system == System::zerobuffer_foreign) {
        const std::vector<Measurement> peer = best_peer(results, peer_row(row), c.ratio_metric);
        if (!peer.empty()) {
            c.has_peer = true;
            c.vs_peer = paired_ratio(cell, peer, c.ratio_metric);
        }
    }
    if (system != System::floor && results.has(row, System::floor)) {
        c.has_floor = true;
        c.vs_floor = paired_ratio(cell, results.cell(row, System::floor), c.ratio_metric);
    }
    return c;
}

void print_table(const Results& results, const RunInfo& info) {
    const int reps = results.reps();
    const char* line = "%-34s %-28s %11s %11s  %-16s %s\n";
    std::printf("\n== Throughput (higher is better): slowest and median of %d repetition(s); ratios paired per "
                "repetition, median (worst)\n",
                reps);
    std::printf(line, "row", "system", "slowest", "median", "vs best peer", "vs floor");
    for_each_cell(results, Kind::throughput, [&](const RowInfo& row, const CellSummary& c, bool first) {
        const bool any = c.frames_per_s.n > 0;
        std::printf(line, first ? row.title : "", system_label(row.row, c.system).c_str(),
                    any ? format_rate(row, c.frames_per_s.min).c_str() : "failed",
                    any ? format_rate(row, c.frames_per_s.median).c_str() : "failed",
                    c.has_peer ? format_paired(c.vs_peer, c.ratio_metric).c_str() : "",
                    c.has_floor ? format_paired(c.vs_floor, c.ratio_metric).c_str() : "");
        print_failures(c);
        return true;
    });

    std::printf("\n== Latency (lower is better): p50 and p99 are medians of %d repetition(s), max the largest; "
                "ratios of p50 paired per repetition, median (worst)\n",
                reps);
    const char* lat = "%-34s %-28s %10s %10s %10s  %-16s %s\n";
    std::printf(lat, "row", "system", "p50", "p99", "max", "vs best peer", "vs floor");
    for_each_cell(results, Kind::latency, [&](const RowInfo& row, const CellSummary& c, bool first) {
        const bool any = c.p50_ns.n > 0;
        std::printf(lat, first ? row.title : "", system_label(row.row, c.system).c_str(),
                    any ? format_ns(c.p50_ns.median).c_str() : "failed", any ? format_ns(c.p99_ns.median).c_str() : "",
                    any ? format_ns(c.max_ns.max).c_str() : "",
                    c.has_peer ? format_paired(c.vs_peer, c.ratio_metric).c_str() : "",
                    c.has_floor ? format_paired(c.vs_floor, c.ratio_metric).c_str() : "");
        print_failures(c);
        return true;
    });
    std::printf("One-way rows: awake = round trip / 2 with both receivers polling; asleep = send-to-receive time "
                "of frames paced at 1 kHz.\nRelay rows: full round trip of a 3,110,400 B frame (A -> B -> A, B "
                "copies it onto the second buffer).\n");

    std::printf("\n== Per-frame resource use of the streaming rows (counted part, writer + reader, median of "
                "repetitions)\n");
    const char* res = "%-34s %-28s %10s %10s %10s %10s  %s\n";
    std::printf(res, "row", "system", "faults", "syscalls", "switches", "CPU us", "(writer + reader CPU us)");
    for_each_cell(results, Kind::throughput, [&](const RowInfo& row, const CellSummary& c, bool first) {
        if (!c.has_resources) return false;
        const std::string split = printf_string("%.3f", c.per_frame.writer_cpu_us.median) + " + " +
                                  printf_string("%.3f", c.per_frame.reader_cpu_us.median);
        std::printf(res, first ? row.title : "", system_label(row.row, c.system).c_str(),
                    format_per_frame(c.per_frame.faults).c_str(), format_per_frame(c.per_frame.syscalls).c_str(),
                    format_per_frame(c.per_frame.switches).c_str(), format_per_frame(c.per_frame.cpu_us).c_str(),
                    split.c_str());
        return true;
    });
    if (info.syscalls.tracepoint_id < 0) std::printf("syscalls: n/a: %s\n", info.syscalls.why_not.c_str());
}

}  // namespace sbs
