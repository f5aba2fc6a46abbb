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
#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace zerobuffer;
using Clock = std::chrono::steady_clock;

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe(fd) != 0) std::abort();
    }
    ~Pipe() {
        ::close(fd[0]);
        ::close(fd[1]);
    }
    void send(const void* p, std::size_t n) const {
        if (::write(fd[1], p, n) != static_cast<ssize_t>(n)) std::perror("bench_topics: pipe write");
    }
    bool receive(void* p, std::size_t n, int timeout_ms = 120000) const {
        pollfd pfd{fd[0], POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
        return ::read(fd[0], p, n) == static_cast<ssize_t>(n);
    }
};

// A forked child running `body`; reaped (killed first if still running) by the destructor.
struct Process {
    pid_t pid = -1;
    explicit Process(const std::function<int()>& body) {
        std::fflush(nullptr);
        pid = ::fork();
        if (pid == 0) {
            int code = 1;
            try {
                code = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "bench_topics child: %s\n", e.what());
            }
            std::fflush(nullptr);
            ::_exit(code);
        }
    }
    Process(Process&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process& operator=(Process&&) = delete;
    int wait() {
        int status = 0;
        if (pid > 0 && ::waitpid(pid, &status, 0) == pid) pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    ~Process() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

std::string g_tag;  // unique per run: zbbench_topics_<pid>
int g_serial = 0;

std::string fresh_name(const char* what) {
    std::string name = g_tag;
    name += '_';
    name += what;
    name += std::to_string(++g_serial);
    return name;
}

BufferConfig ring_for(std::size_t frame, std::size_t frames) {
    BufferConfig c;
    c.metadata_size = 256;
    c.payload_size = (frame + 16) * frames + 4096;
    return c;
}

enum class Mode { copy, zero_copy };

// Frame k. Zero-copy rows fill it in place: byte i = (k + i) mod 256. Copy rows publish one
// buffer filled once, stamping only byte 0 with k (refilling it would time the caller's work):
// byte 0 = k mod 256, byte i = i mod 256 after it. check() samples it (the tests check every byte).
void fill(std::span<std::byte> out, std::uint64_t k) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>((k + i) & 0xFF);
}
bool check(std::span<const std::byte> in, std::uint64_t k, Mode mode) {
    const std::uint64_t base = mode == Mode::copy ? 0 : k;
    if (in.empty() || in[0] != static_cast<std::byte>(k & 0xFF)) return false;
    for (std::size_t i = 1; i < in.size(); i += 61) {
        if (in[i] != static_cast<std::byte>((base + i) & 0xFF)) return false;
    }
    return in.back() == static_cast<std::byte>((base + in.size() - 1) & 0xFF);
}

// A reader process: creates its buffer (Reader or Subscriber), says so, waits until the burst
// is over, then reads and checks `frames` frames.
template <class Make>
Process reader_process(Make make, const Pipe& ready, const Pipe& go, std::size_t frames, Mode mode) {
    return Process([&ready, &go, make, frames, mode] {
        auto reader = make();
        const char yes = 1;
        ready.send(&yes, 1);
        char g = 0;
        if (!go.receive(&g, 1)) return 2;
        for (std::size_t k = 0; k < frames; ++k) {
            Frame f = reader.read_frame(std::chrono::seconds(10));
            if (!f || !check(f.data(), k, mode)) return 3;
        }
        return 0;
    });
}

struct Row {
    std::size_t size;
    int subscribers;  // 0: the plain Writer
    Mode mode;
};

// Nanoseconds per frame, or a negative number if the run failed.
double measure(const Row& row, std::size_t frames) {
    Pipe ready, go;
    std::vector<Process> readers;
    const BufferConfig config = ring_for(row.size, frames);
    const std::string name = fresh_name(row.subscribers == 0 ? "writer" : "topic");
    const int n = std::max(row.subscribers, 1);
    for (int i = 0; i < n; ++i) {
        if (row.subscribers == 0) {
            readers.push_back(reader_process([&] { return Reader(name, config); }, ready, go, frames, row.mode));
        } else {
            std::string id = "s";
            id += std::to_string(i);
            readers.push_back(reader_process([&, id] { return Subscriber(name, config, id); }, ready, go, frames, row.mode));
        }
    }
    for (int i = 0; i < n; ++i) {
        char c = 0;
        if (!ready.receive(&c, 1)) return -1;
    }
    std::vector<std::byte> frame(row.size);
    fill(frame, 0);
    double ns = -1;
    auto burst = [&](auto&& one) {
        const auto t0 = Clock::now();
        for (std::size_t k = 0; k < frames; ++k) one(k);
        ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(frames);
    };
    if (row.subscribers == 0) {
        Writer writer(name);
        if (row.mode == Mode::copy) {
            burst([&](std::size_t k) {
                frame[0] = static_cast<std::byte>(k & 0xFF);  // the first byte only: the others stay (k + i) for k = 0
                writer.write_frame(frame.data(), frame.size());
            });
        } else {
            burst([&](std::size_t k) {
                FrameReservation r = writer.acquire_frame(row.size);
                fill(r.data(), k);
                r.commit();
            });
        }
    } else {
        Publisher publisher(name);
        if (!publisher.wait_for_subscribers(static_cast<std::size_t>(n), std::chrono::seconds(20))) return -1;
        if (row.mode == Mode::copy) {
            burst([&](std::size_t k) {
                frame[0] = static_cast<std::byte>(k & 0xFF);
                publisher.publish(frame.data(), frame.size());
            });
        } else {
            burst([&](std::size_t k) {
                PublishLoan loan = publisher.acquire_frame(row.size);
                fill(loan.data(), k);
                loan.commit();
            });
        }
        for (int i = 0; i < n; ++i) go.send("g", 1);
        for (auto& r : readers) ns = r.wait() == 0 ? ns : -1;
        return ns;
    }
    for (int i = 0; i < n; ++i) go.send("g", 1);
    for (auto& r : readers) ns = r.wait() == 0 ? ns : -1;
    return ns;
}

// Removes whatever this run left in /dev/shm and /tmp/zerobuffer; returns how much that was.
int sweep() {
    int removed = 0;
    for (const char* dir : {"/dev/shm", "/tmp/zerobuffer"}) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().filename().string().find(g_tag) == std::string::npos) continue;
            std::filesystem::remove(entry.path(), ec);
            ++removed;
        }
    }
    return removed;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<std::size_t> parse_list(const char* text) {
    std::vector<std::size_t> out;
    for (const char* p = text; *p != '\0';) {
        char* end = nullptr;
        out.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p != '\0') break;
    }
    return out;
}

// One subscriber beside a plain Writer, paired: both readers (a Reader, a Subscriber) live
// through the whole run and drain after each pair of bursts; the two bursts of a pair run back
// to back, in alternating order, so that whatever else the machine does hits both alike.
// Returns the per-pair ratios publisher / writer, and the per-frame costs.
struct Paired {
    std::vector<double> ratios, writer_ns, publisher_ns;
    bool ok = true;
};

Paired paired(std::size_t size, Mode mode, std::size_t burst, int pairs) {
    Paired out;
    Pipe ready, drain_a, drain_b, done;  // one drain pipe per reader: a fast one must not take the other's turn
    const BufferConfig config = ring_for(size, burst);
    const std::string plain = fresh_name("pair_writer");
    const std::string topic = fresh_name("pair_topic");
    auto reader_body = [&](auto make, const Pipe& drain) {
        return [&, make] {
            auto reader = make();
            ready.send("r", 1);
            for (int p = 0; p < pairs; ++p) {
                char c = 0;
                if (!drain.receive(&c, 1)) return 2;
                for (std::size_t k = 0; k < burst; ++k) {
                    Frame f = reader.read_frame(std::chrono::seconds(10));
                    if (!f || !check(f.data(), k, mode)) return 3;
                }
                if (reader.try_read_frame()) return 4;  // nothing more; and hands back the last released space
                done.send("d", 1);
            }
            return 0;
        };
    };
    Process a(reader_body([&] { return Reader(plain, config); }, drain_a));
    Process b(reader_body([&] { return Subscriber(topic, config, "only"); }, drain_b));
    for (int i = 0; i < 2; ++i) {
        char c = 0;
        if (!ready.receive(&c, 1)) return {{}, {}, {}, false};
    }
    Writer writer(plain);
    Publisher publisher(topic);
    if (!publisher.wait_for_subscribers(1, std::chrono::seconds(20))) return {{}, {}, {}, false};
    std::vector<std::byte> frame(size);
    fill(frame, 0);
    auto time_burst = [&](auto&& one) {
        const auto t0 = Clock::now();
        for (std::size_t k = 0; k < burst; ++k) one(k);
        return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(burst);
    };
    auto writer_burst = [&] {
        if (mode == Mode::copy) {
            return time_burst([&](std::size_t k) {
                frame[0] = static_cast<std::byte>(k & 0xFF);
                writer.write_frame(frame.data(), frame.size());
            });
        }
        return time_burst([&](std::size_t k) {
            FrameReservation r = writer.acquire_frame(size);
            fill(r.data(), k);
            r.commit();
        });
    };
    auto publisher_burst = [&] {
        if (mode == Mode::copy) {
            return time_burst([&](std::size_t k) {
                frame[0] = static_cast<std::byte>(k & 0xFF);
                publisher.publish(frame.data(), frame.size());
            });
        }
        return time_burst([&](std::size_t k) {
            PublishLoan loan = publisher.acquire_frame(size);
            fill(loan.data(), k);
            loan.commit();
        });
    };
    for (int p = 0; p < pairs; ++p) {
        double w = 0, q = 0;
        if (p % 2 == 0) {
            w = writer_burst();
            q = publisher_burst();
        } else {
            q = publisher_burst();
            w = writer_burst();
        }
        out.writer_ns.push_back(w);
        out.publisher_ns.push_back(q);
        out.ratios.push_back(q / w);
        drain_a.send("d", 1);
        drain_b.send("d", 1);
        for (int i = 0; i < 2; ++i) {
            char c = 0;
            if (!done.receive(&c, 1)) return {{}, {}, {}, false};
        }
    }
    const int ca = a.wait(), cb = b.wait();
    if (ca != 0 || cb != 0) std::fprintf(stderr, "bench_topics: paired readers exited with %d and %d\n", ca, cb);
    out.ok = ca == 0 && cb == 0;
    return out;
}

// Discovery latency between processes: {from constructor start, from its end} in ms per sample.
std::vector<std::pair<double, double>> discovery_latency(bool inotify, int samples) {
    Pipe go, result;
    const std::string topic = fresh_name(inotify ? "disc_inotify" : "disc_scan");
    Process subscriber([&] {
        for (int i = 0; i < samples; ++i) {
            char c = 0;
            if (!go.receive(&c, 1)) return 2;
            const auto t0 = Clock::now();
            std::string id = "d";
            id += std::to_string(i);
            Subscriber s(topic, ring_for(64, 16), id);
            const auto t1 = Clock::now();
            while (s.metadata().empty() && Clock::now() - t0 < std::chrono::seconds(2)) std::this_thread::yield();
            const auto t2 = Clock::now();
            const double both[2] = {std::chrono::duration<double, std::milli>(t2 - t0).count(),
                                    std::chrono::duration<double, std::milli>(t2 - t1).count()};
            result.send(both, sizeof both);
        }
        return 0;
    });
    PublisherOptions options;
    options.use_inotify = inotify;
    Publisher publisher(topic, options);
    publisher.set_metadata("m", 1);
    std::vector<std::pair<double, double>> out;
    for (int i = 0; i < samples; ++i) {
        go.send("g", 1);
        double both[2] = {0, 0};
        if (!result.receive(both, sizeof both)) break;
        out.emplace_back(both[0], both[1]);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    subscriber.wait();
    return out;
}

}  // namespace

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
