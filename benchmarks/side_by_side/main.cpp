// bench_side_by_side: zerobuffer next to Boost.Interprocess message_queue and the machine's
// floors, measured between two pinned processes, interleaved over repetitions so that noise
// hits every system alike; ratios are paired per repetition. See docs/benchmarks.md.
//
// Exit status: 0 when every measurement ran and nothing was left behind; 1 if a measurement
// failed, 2 on a usage error, 3 if objects were left in /dev/shm or /tmp/zerobuffer, 130 when
// interrupted. Never the targets: they are printed, not asserted.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "processes.h"
#include "report.h"
#include "systems.h"

#ifndef ZB_SBS_DEFAULT_JSON
#define ZB_SBS_DEFAULT_JSON "bench-side-by-side.json"
#endif
#ifndef ZB_SBS_PLOT_SCRIPT
#define ZB_SBS_PLOT_SCRIPT "plot.gp"
#endif
#ifndef ZB_SBS_DOCS_PNG
#define ZB_SBS_DOCS_PNG "docs/benchmark-side-by-side.png"
#endif

namespace sbs {
namespace {

struct Options {
    Settings settings;
    std::string json = ZB_SBS_DEFAULT_JSON;
    bool plot = true;
    bool update_docs = false;
    std::vector<Row> rows;
    std::vector<System> systems;
};

void usage(FILE* to) {
    std::fprintf(to,
                 "usage: bench_side_by_side [options]\n"
                 "  --reps N         repetitions; systems and floors are interleaved in each (default 5)\n"
                 "  --seconds S      length of one row per repetition (default 0.25; the 1 kHz and the\n"
                 "                   fresh-buffer rows run twice as long)\n"
                 "  --quick          1 repetition of 0.05 s per row: a smoke run, the figures mean nothing\n"
                 "  --json PATH      JSON output (default %s); the plot goes next to it\n"
                 "  --no-plot        do not run gnuplot\n"
                 "  --update-docs    also copy the plot to %s\n"
                 "  --rows LIST      comma-separated row keys (default: all):\n"
                 "                   ",
                 ZB_SBS_DEFAULT_JSON, ZB_SBS_DOCS_PNG);
    for (const RowInfo& r : kRows) std::fprintf(to, "%s ", r.key);
    std::fprintf(to, "\n  --systems LIST   comma-separated system keys (default: all): ");
    for (const char* key : kSystemKeys) std::fprintf(to, "%s ", key);
    std::fprintf(to, "\n  --cpus A,B       CPUs of the writer and the reader (default: the first two allowed)\n");
}

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) parts.push_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return parts;
}

// Returns false (after printing why) on a bad command line.
bool parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* value = nullptr;
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            std::exit(0);
        } else if (arg == "--quick") {
            o.settings.reps = 1;
            o.settings.seconds = 0.05;
        } else if (arg == "--no-plot") {
            o.plot = false;
        } else if (arg == "--update-docs") {
            o.update_docs = true;
        } else if (arg == "--reps" && (value = next())) {
            o.settings.reps = std::atoi(value);
        } else if (arg == "--seconds" && (value = next())) {
            o.settings.seconds = std::atof(value);
        } else if (arg == "--json" && (value = next())) {
            o.json = value;
        } else if (arg == "--cpus" && (value = next())) {
            if (std::sscanf(value, "%d,%d", &o.settings.cpu[0], &o.settings.cpu[1]) != 2) return false;
        } else if (arg == "--rows" && (value = next())) {
            for (const std::string& key : split(value)) {
                auto it = std::find_if(std::begin(kRows), std::end(kRows), [&](const RowInfo& r) { return key == r.key; });
                if (it == std::end(kRows)) return std::fprintf(stderr, "unknown row '%s'\n", key.c_str()), false;
                o.rows.push_back(it->row);
            }
        } else if (arg == "--systems" && (value = next())) {
            for (const std::string& key : split(value)) {
                auto it = std::find(std::begin(kSystemKeys), std::end(kSystemKeys), key);
                if (it == std::end(kSystemKeys)) return std::fprintf(stderr, "unknown system '%s'\n", key.c_str()), false;
                o.systems.push_back(static_cast<System>(it - std::begin(kSystemKeys)));
            }
        } else {
            std::fprintf(stderr, "bad argument: %s\n", arg.c_str());
            return false;
        }
    }
    if (o.settings.reps < 1 || !(o.settings.seconds > 0)) return std::fprintf(stderr, "--reps and --seconds must be > 0\n"), false;
    if (o.rows.empty()) for (const RowInfo& r : kRows) o.rows.push_back(r.row);
    if (o.systems.empty()) o.systems.assign(std::begin(kAllSystems), std::end(kAllSystems));
    return true;
}

// The first two CPUs this process may run on (the same one twice on a one-CPU machine).
void default_cpus(Settings& s) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    std::vector<int> allowed;
    for (int c = 0; c < CPU_SETSIZE && allowed.size() < 2; ++c) {
        if (CPU_ISSET(c, &set)) allowed.push_back(c);
    }
    if (allowed.empty()) return;
    s.cpu[0] = allowed[0];
    s.cpu[1] = allowed.size() > 1 ? allowed[1] : allowed[0];
    if (allowed.size() < 2) std::fprintf(stderr, "warning: one CPU only: both processes share CPU %d\n", s.cpu[0]);
}

std::array<double, 3> load_average() {
    std::array<double, 3> load{};
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load = {};
        std::fclose(f);
    }
    return load;
}

std::string load_text(const std::array<double, 3>& l) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f %.2f %.2f", l[0], l[1], l[2]);
    return buffer;
}

void describe_machine(RunInfo& info) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            info.cpu_model = line.substr(line.find(':') + 2);
            break;
        }
    }
    info.cpus_online = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    utsname u{};
    if (uname(&u) == 0) info.kernel = u.release;
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    info.started = when;
}

bool copy_file(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    return in.good() && out.good();
}

int finish(const Options& o, int status) {
    sweep_objects(o.settings.tag);
    const int left = count_objects(o.settings.tag);
    const int leaked = objects_left_by_successful_runs();
    if (left > 0 || leaked > 0) {
        std::fprintf(stderr, "cleanup: FAILED: %d object(s) left by successful measurements, %d still present\n", leaked,
                     left);
        return status == 0 ? 3 : status;
    }
    std::printf("cleanup: nothing left in /dev/shm or /tmp/zerobuffer\n");
    return status;
}

int run(Options& o) {
    RunInfo info;
    describe_machine(info);
    info.syscalls = probe_syscall_counting();
    o.settings.syscall_tracepoint = info.syscalls.tracepoint_id;
    info.settings = o.settings;
    info.load_start = load_average();
    const std::uint64_t started = now_ns();

    std::printf("zerobuffer side-by-side benchmark: %d repetition(s) x %.2f s per row; writer on CPU %d, reader on "
                "CPU %d\n",
                o.settings.reps, o.settings.seconds, o.settings.cpu[0], o.settings.cpu[1]);
    std::printf("machine: %s, %d CPU(s) online, Linux %s\n", info.cpu_model.c_str(), info.cpus_online,
                info.kernel.c_str());
    std::printf("load average at start: %s\n", load_text(info.load_start).c_str());
    std::printf("syscall counting: %s\n", info.syscalls.tracepoint_id >= 0 ? info.syscalls.method.c_str()
                                                                            : ("n/a: " + info.syscalls.why_not).c_str());

    Results results(o.settings.reps);
    for (Row row : o.rows) {
        for (System system : o.systems) {
            if (supports(system, row)) results.cell(row, system).assign(static_cast<std::size_t>(o.settings.reps), {});
        }
    }
    int failures = 0;
    for (int rep = 0; rep < o.settings.reps; ++rep) {
        const std::uint64_t rep_start = now_ns();
        for (Row row : o.rows) {
            std::vector<System> order;
            for (System system : o.systems) {
                if (supports(system, row)) order.push_back(system);
            }
            if (order.empty()) continue;
            // A different system goes first in each repetition.
            std::rotate(order.begin(), order.begin() + rep % static_cast<int>(order.size()), order.end());
            for (System system : order) {
                Measurement m = measure(system, row, o.settings);
                if (poll_interrupt() != 0) {
                    std::fprintf(stderr, "interrupted: cleaning up\n");
                    finish(o, 130);
                    return 130;
                }
                if (!m.ok) {
                    ++failures;
                    std::fprintf(stderr, "rep %d: %s / %s: FAILED: %s\n", rep + 1, row_info(row).title,
                                 system == System::floor ? floor_label(row).c_str() : system_name(system), m.error);
                }
                results.cell(row, system)[static_cast<std::size_t>(rep)] = m;
            }
        }
        info.load_after_rep.push_back(load_average());
        std::fprintf(stderr, "rep %d/%d done in %.1f s (load %s)\n", rep + 1, o.settings.reps,
                     static_cast<double>(now_ns() - rep_start) / 1e9, load_text(info.load_after_rep.back()).c_str());
    }
    results.derive_relay_floors();
    info.load_end = load_average();
    info.elapsed_s = static_cast<double>(now_ns() - started) / 1e9;

    print_table(results, info);
    const std::vector<Target> targets = evaluate_targets(results, info);
    print_targets(targets, info);
    std::printf("\nload average at start: %s, at end: %s; %.1f s in all\n", load_text(info.load_start).c_str(),
                load_text(info.load_end).c_str(), info.elapsed_s);

    if (write_json(o.json, results, info, targets)) std::printf("json: %s\n", o.json.c_str());
    else std::fprintf(stderr, "json: cannot write %s\n", o.json.c_str());
    if (o.plot) {
        const std::string png = write_plot(o.json, ZB_SBS_PLOT_SCRIPT, results, info);
        if (!png.empty()) {
            std::printf("plot: %s\n", png.c_str());
            if (o.update_docs) {
                if (copy_file(png, ZB_SBS_DOCS_PNG)) std::printf("plot: copied to %s\n", ZB_SBS_DOCS_PNG);
                else std::fprintf(stderr, "plot: cannot copy to %s\n", ZB_SBS_DOCS_PNG);
            }
        }
    }
    return finish(o, failures > 0 ? 1 : 0);
}

}  // namespace
}  // namespace sbs

int main(int argc, char** argv) {
    using namespace sbs;
    Options o;
    default_cpus(o.settings);
    if (!parse(argc, argv, o)) {
        usage(stderr);
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    install_signal_handling();
    o.settings.tag = "zbsbs" + std::to_string(getpid()) + "_";
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_side_by_side: %s\n", e.what());
        return finish(o, 1);
    }
}
