// The plot: two data files next to the JSON, turned into a PNG by gnuplot and plot.gp.
//
//   <stem>-throughput.dat   frame size, then the median GB/s of each series (NaN: not run)
//   <stem>-latency.dat      one line per latency row, then p50 and p99 (us) of each system
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

extern char** environ;

namespace sbs {
namespace {

std::string stem_of(const std::string& json_path) {
    const std::string suffix = ".json";
    if (json_path.size() > suffix.size() && json_path.compare(json_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return json_path.substr(0, json_path.size() - suffix.size());
    }
    return json_path;
}

double median_or_nan(const Spread& s) { return s.n > 0 ? s.median : NAN; }

void print_value(FILE* f, double v) {
    if (std::isnan(v)) std::fprintf(f, " NaN");
    else std::fprintf(f, " %.6g", v);
}

// Streaming GB/s per frame size: copy and zero-copy of both zerobuffer systems, Boost, floor.
bool write_throughput(const std::string& path, const Results& results) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "# frame_bytes zerobuffer_copy zerobuffer_zero_copy foreign_copy foreign_zero_copy boost floor\n");
    const Row sizes[][2] = {{Row::stream_64, Row::stream_64},
                            {Row::stream_4k_copy, Row::stream_4k_zero_copy},
                            {Row::stream_1m_copy, Row::stream_1m_zero_copy},
                            {Row::stream_3m_copy, Row::stream_3m_zero_copy}};
    auto gbps = [&](Row row, System system) {
        return results.has(row, system) ? median_or_nan(summarise_cell(results, row, system).gb_per_s) : NAN;
    };
    for (const auto& size : sizes) {
        const Row copy = size[0], zero_copy = size[1];
        std::fprintf(f, "%zu", row_info(copy).frame);
        print_value(f, gbps(copy, System::zerobuffer));
        print_value(f, zero_copy != copy ? gbps(zero_copy, System::zerobuffer) : NAN);
        print_value(f, gbps(copy, System::zerobuffer_foreign));
        print_value(f, zero_copy != copy ? gbps(zero_copy, System::zerobuffer_foreign) : NAN);
        print_value(f, gbps(copy, System::boost_mq));
        print_value(f, gbps(copy, System::floor));
        std::fprintf(f, "\n");
    }
    return std::fclose(f) == 0;
}

// p50 and p99 in microseconds for each latency row and system.
bool write_latency(const std::string& path, const Results& results) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "# label, then p50_us p99_us of: zerobuffer foreign boost floor\n");
    const std::pair<Row, const char*> rows[] = {{Row::awake_64, "64 B one-way, awake"},
                                                {Row::asleep_64, "64 B one-way, asleep at 1 kHz"},
                                                {Row::relay_steady, "3.1 MB relay round trip"},
                                                {Row::relay_fresh, "3.1 MB relay round trip, fresh"}};
    for (const auto& [row, label] : rows) {
        std::fprintf(f, "\"%s\"", label);
        for (System system : kAllSystems) {
            if (!results.has(row, system)) {
                std::fprintf(f, " NaN NaN");
                continue;
            }
            const CellSummary c = summarise_cell(results, row, system);
            print_value(f, median_or_nan(c.p50_ns) / 1e3);
            print_value(f, median_or_nan(c.p99_ns) / 1e3);
        }
        std::fprintf(f, "\n");
    }
    return std::fclose(f) == 0;
}

}  // namespace

std::string write_plot(const std::string& json_path, const std::string& script, const Results& results,
                       const RunInfo& info) {
    const std::string stem = stem_of(json_path);
    const std::string throughput = stem + "-throughput.dat", latency = stem + "-latency.dat", png = stem + ".png";
    if (!write_throughput(throughput, results) || !write_latency(latency, results)) {
        std::fprintf(stderr, "plot: cannot write the data files next to %s\n", json_path.c_str());
        return "";
    }
    if (access(script.c_str(), R_OK) != 0) {
        std::fprintf(stderr, "plot: skipped: no gnuplot script at %s\n", script.c_str());
        return "";
    }
    char subtitle[160];
    std::snprintf(subtitle, sizeof subtitle, "%d rep(s) x %.2f s, %s, load %.2f -> %.2f", info.settings.reps,
                  info.settings.seconds, info.started.c_str(), info.load_start[0], info.load_end[0]);
    const std::string vars = "throughput='" + throughput + "'; latency='" + latency + "'; output='" + png +
                             "'; subtitle='" + subtitle + "'";
    std::vector<std::string> args = {"gnuplot", "-e", vars, script};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // this process blocks SIGCHLD and friends
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int err = posix_spawnp(&pid, "gnuplot", nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
        std::fprintf(stderr, "plot: skipped: gnuplot not found (Debian: gnuplot-nox; scripts/bench.sh installs it)\n");
        return "";
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "plot: gnuplot failed (status %d)\n", status);
        return "";
    }
    return png;
}

}  // namespace sbs
