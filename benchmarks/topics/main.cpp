// bench_topics: what publishing to a topic costs against its subscriber count, beside a plain
// Writer, and how soon a publisher finds a new subscriber (docs/topics.md, "Figures").
//
//   bench_topics [--reps N] [--quick] [--sizes 64,3110400] [--counts 1,2,4,8]
//
// Publish cost: the publisher's time per frame, with every subscriber (or the plain Writer's
// reader) a separate process whose ring holds the whole burst and which reads nothing until the
// burst is over: the figure is the publisher's own work (copies, ring bookkeeping, fan-out),
// not the readers' speed or the scheduler's. Then each reader drains and checks its frames.
// Rows: copy (publish / write_frame) and zero-copy (acquire_frame, fill, commit). Repetitions
// interleave every row; the table shows the best and the median repetition, and the ratio of
// the best to the plain Writer's best (on a shared machine other processes only add time).
//
// Discovery latency: a subscriber process creates TOPIC@ID and spins until the publisher's
// metadata is visible in its buffer; from the start of its constructor, and from its end.
//
// Exit status 0 when every measurement ran, every frame arrived intact and nothing was left in
// /dev/shm or /tmp/zerobuffer (whatever is left is removed).
//
// Files: main.cpp (options, the runs, the tables), publish_cost.cpp, paired_cost.cpp,
// discovery_latency.cpp (the measurements), bench_support.cpp and bench_topics.h (what they share).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "bench_topics.h"

using namespace bench_topics;

int main(int argc, char** argv) {
    int reps = 9;
    std::vector<std::size_t> sizes = {64, 3'110'400};
    std::vector<std::size_t> counts = {1, 2, 4, 8};
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--quick") quick = true;
        else if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (arg == "--sizes" && i + 1 < argc) sizes = parse_list(argv[++i]);
        else if (arg == "--counts" && i + 1 < argc) counts = parse_list(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_topics [--reps N] [--quick] [--sizes 64,3110400] [--counts 1,2,4,8]\n");
            return 2;
        }
    }
    if (quick) reps = 1;
    ::signal(SIGPIPE, SIG_IGN);
    g_tag = "zbbench_topics_" + std::to_string(::getpid());

    std::vector<Row> rows;
    for (std::size_t size : sizes) {
        for (Mode mode : {Mode::copy, Mode::zero_copy}) {
            rows.push_back({size, 0, mode});
            for (std::size_t c : counts) rows.push_back({size, static_cast<int>(c), mode});
        }
    }
    auto frames_for = [&](std::size_t size) -> std::size_t {
        if (quick) return size > 65536 ? 4 : 2000;
        return size > 65536 ? 24 : 100'000;
    };
    std::vector<std::vector<double>> ns(rows.size());
    bool ok = true;
    for (int rep = 0; rep < reps; ++rep) {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const double v = measure(rows[r], frames_for(rows[r].size));
            if (v < 0) {
                ok = false;
                std::fprintf(stderr, "bench_topics: a measurement failed (size %zu, %d subscribers)\n", rows[r].size,
                             rows[r].subscribers);
            } else {
                ns[r].push_back(v);
            }
        }
    }

    // The best of the repetitions is the cost of the work itself (other processes on a shared
    // machine only ever add to it); the median shows how much they added.
    std::printf("\npublish cost per frame, publisher side, readers in other processes (%d interleaved repetitions)\n",
                reps);
    std::printf("%-10s %-10s %-16s %12s %12s %12s %14s\n", "frame", "mode", "system", "best", "median", "GB/s/sub",
                "vs Writer");
    auto format_cost = [](double v) {
        char cost[32];
        if (v >= 1e6) std::snprintf(cost, sizeof cost, "%.3f ms", v / 1e6);
        else if (v >= 1e3) std::snprintf(cost, sizeof cost, "%.2f us", v / 1e3);
        else std::snprintf(cost, sizeof cost, "%.1f ns", v);
        return std::string(cost);
    };
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const Row& row = rows[r];
        std::size_t base = r;
        while (rows[base].subscribers != 0) --base;
        if (ns[r].empty() || ns[base].empty()) continue;
        const double best = *std::min_element(ns[r].begin(), ns[r].end());
        const double base_best = *std::min_element(ns[base].begin(), ns[base].end());
        std::string system = "Writer";
        if (row.subscribers != 0) {
            system = "Publisher x";
            system += std::to_string(row.subscribers);
        }
        std::printf("%-10zu %-10s %-16s %12s %12s %12.2f %13.3fx\n", row.size,
                    row.mode == Mode::copy ? "copy" : "zero-copy", system.c_str(), format_cost(best).c_str(),
                    format_cost(median(ns[r])).c_str(), static_cast<double>(row.size) / best, best / base_best);
    }

    std::printf("\none subscriber beside a plain Writer, paired bursts back to back in alternating order, fresh "
                "rings every 7 pairs (median of the per-pair ratios)\n");
    std::printf("%-10s %-10s %14s %14s %12s %8s\n", "frame", "mode", "Writer", "Publisher x1", "ratio", "pairs");
    for (std::size_t size : sizes) {
        for (Mode mode : {Mode::copy, Mode::zero_copy}) {
            // Fresh rings for every few pairs: where a ring's pages lie shows at 3 MB, and must
            // not decide the comparison.
            const int setups = quick ? 1 : 6;
            const int pairs = quick ? 2 : 7;
            const std::size_t burst = size > 65536 ? (quick ? 2 : 8) : (quick ? 1000 : 20'000);
            Paired p;
            for (int setup = 0; setup < setups && p.ok; ++setup) {
                try {
                    const Paired one = paired(size, mode, burst, pairs);
                    p.ok = one.ok;
                    p.ratios.insert(p.ratios.end(), one.ratios.begin(), one.ratios.end());
                    p.writer_ns.insert(p.writer_ns.end(), one.writer_ns.begin(), one.writer_ns.end());
                    p.publisher_ns.insert(p.publisher_ns.end(), one.publisher_ns.begin(), one.publisher_ns.end());
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "bench_topics: %s\n", e.what());
                    p.ok = false;
                }
            }
            if (!p.ok || p.ratios.empty()) {
                ok = false;
                std::fprintf(stderr, "bench_topics: the paired measurement failed (size %zu)\n", size);
                continue;
            }
            std::printf("%-10zu %-10s %14s %14s %11.3fx %8zu\n", size, mode == Mode::copy ? "copy" : "zero-copy",
                        format_cost(median(p.writer_ns)).c_str(), format_cost(median(p.publisher_ns)).c_str(),
                        median(p.ratios), p.ratios.size());
        }
    }

    std::printf("\ndiscovery latency of a new subscriber (another process), until the publisher's metadata is in its "
                "buffer\n");
    for (bool inotify : {true, false}) {
        auto samples = discovery_latency(inotify, quick ? 3 : 30);
        if (samples.empty()) {
            ok = false;
            continue;
        }
        std::vector<double> from_start, from_end;
        for (auto [a, b] : samples) {
            from_start.push_back(a);
            from_end.push_back(b);
        }
        std::sort(from_start.begin(), from_start.end());
        std::sort(from_end.begin(), from_end.end());
        std::printf("  %-22s from creating it: median %7.2f ms, max %7.2f ms; after its constructor returned: median "
                    "%6.2f ms, max %6.2f ms (%zu samples)\n",
                    inotify ? "inotify:" : "listing every 50 ms:", from_start[from_start.size() / 2], from_start.back(),
                    from_end[from_end.size() / 2], from_end.back(), samples.size());
    }
    if (const int left = sweep(); left > 0) {
        std::fprintf(stderr, "bench_topics: %d object(s) were left in /dev/shm or /tmp/zerobuffer (removed)\n", left);
        ok = false;
    }
    return ok ? 0 : 1;
}
