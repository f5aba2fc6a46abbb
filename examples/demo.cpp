// zerobuffer demo: a writer process streams 1080p-sized frames to a reader process through one
// buffer; the reader checks every byte of every frame and shows frames/s, GB/s and the
// commit-to-receive latency live, then a summary.
//
//   demo [--seconds S] [--frame-size BYTES] [--ring-mib MIB] [--fps N] [--corrupt-every N]
//   demo --role reader --name NAME ...     (one side only; start the reader first)
//   demo --role writer --name NAME ...
//
// Without --role the program starts itself twice (reader and writer), waits for both and makes
// sure nothing of the buffer is left in /dev/shm or /tmp/zerobuffer, also after Ctrl-C.
//
// Frame layout (little-endian u64 words; frames start at arbitrary byte offsets, so all
// accesses go through memcpy):
//   word 0: CLOCK_MONOTONIC time in ns, stored just before commit (latency = receive - this)
//   word 1: frame index 0, 1, 2 ...
//   word i >= 2: base(index) + i * kStep, where base() is a 64-bit mix of the index
//   trailing size % 8 bytes: the low bytes of the next word of that sequence
// Each frame therefore has its own content, and a changed, shifted or stale byte anywhere
// changes at least one word. After the last frame the writer sends one end-of-stream frame
// (kEndMagic, number of frames) so the reader can also detect lost frames at the end.

#include <zerobuffer/zerobuffer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace zb = zerobuffer;

namespace {

constexpr std::uint64_t kStep = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kEndMagic = 0x444E454F4D45445Aull;  // "ZDEMOEND"
constexpr std::size_t kHeaderBytes = 16;                    // timestamp + index
constexpr std::size_t kEndFrameBytes = 24;                  // magic, frames, 0
constexpr int kExitInterrupted = 130;

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

bool stop_requested() { return g_stop_signal != 0; }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls return early and the loops notice the flag
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t load64(const std::byte* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store64(std::byte* p, std::uint64_t v) { std::memcpy(p, &v, sizeof v); }

// splitmix64 finaliser: a different, well-spread base value per frame index.
std::uint64_t frame_base(std::uint64_t index) {
    std::uint64_t z = index + kStep;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Writes words 1.. and the tail of the pattern of frame `index` (word 0 is the timestamp).
void fill_frame(std::byte* data, std::size_t size, std::uint64_t index) {
    store64(data + 8, index);
    const std::size_t words = size / 8;
    const std::uint64_t base = frame_base(index);
    for (std::size_t i = 2; i < words; ++i) store64(data + 8 * i, base + i * kStep);
    const std::size_t tail = size % 8;
    if (tail != 0) {
        const std::uint64_t last = base + words * kStep;
        std::memcpy(data + 8 * words, &last, tail);
    }
}

// Number of bytes from offset 16 on that differ from the pattern of frame `index`, and the first one.
struct PatternCheck {
    std::size_t bad_bytes = 0;
    std::size_t first_bad = 0;
};

PatternCheck check_pattern(const std::byte* data, std::size_t size, std::uint64_t index) {
    const std::size_t words = size / 8;
    const std::uint64_t base = frame_base(index);
    // Fast path: OR of the XOR differences, one pass at memory speed.
    std::uint64_t diff = 0;
    for (std::size_t i = 2; i < words; ++i) diff |= load64(data + 8 * i) ^ (base + i * kStep);
    const std::size_t tail = size % 8;
    std::uint64_t expected_tail = base + words * kStep;
    std::uint64_t got_tail = 0;
    std::memcpy(&got_tail, data + 8 * words, tail);
    if (tail != 0) {
        const std::uint64_t mask = (std::uint64_t{1} << (8 * tail)) - 1;
        diff |= (got_tail ^ expected_tail) & mask;
    }
    PatternCheck result;
    if (diff == 0) return result;
    // Slow path, only for a broken frame: count the wrong bytes.
    auto expected_byte = [&](std::size_t offset) {
        const std::uint64_t word = base + (offset / 8) * kStep;
        return static_cast<std::byte>((word >> (8 * (offset % 8))) & 0xFF);
    };
    for (std::size_t off = kHeaderBytes; off < size; ++off) {
        if (data[off] != expected_byte(off)) {
            if (result.bad_bytes == 0) result.first_bad = off;
            ++result.bad_bytes;
        }
    }
    return result;
}

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

struct Options {
    std::string role = "both";
    std::string name;
    double seconds = 5.0;
    std::size_t frame_size = 3'110'400;  // 1920 x 1080 x 3 (RGB24)
    std::size_t ring_mib = 8;
    double fps = 0.0;                    // 0: as fast as possible
    std::uint64_t corrupt_every = 0;     // writer damages one byte of every Nth frame (self-test)
    double connect_timeout = 10.0;
};

void usage(std::FILE* out) {
    std::fprintf(out,
        "usage: demo [options]\n"
        "  --seconds S         how long the writer streams (default 5)\n"
        "  --frame-size BYTES  frame size, >= 16 (default 3110400 = one 1080p RGB24 frame)\n"
        "  --ring-mib MIB      payload ring size in MiB (default 8: two 1080p frames)\n"
        "  --fps N             limit the writer to N frames/s (default 0 = unlimited)\n"
        "  --corrupt-every N   writer damages one byte in every Nth frame, to show detection\n"
        "  --role R            both (default), reader or writer\n"
        "  --name NAME         buffer name (default zbdemo_<pid> for both, zbdemo otherwise)\n"
        "  --connect-timeout S how long each side waits for the other (default 10)\n"
        "exit status: 0 all frames verified, 1 verification or stream error, 2 usage, 130 interrupted\n");
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    if constexpr (std::is_floating_point_v<T>) {
        char* end = nullptr;
        const std::string copy(text);
        const double v = std::strtod(copy.c_str(), &end);
        if (copy.empty() || *end != '\0' || !(v >= 0)) return false;
        out = v;
        return true;
    } else {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc{} && ptr == text.data() + text.size();
    }
}

// Returns -1 to continue, otherwise the exit code.
int parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        bool has_value = false;
        if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "demo: %s needs a value\n", argv[i]);
                return 2;
            }
            value = argv[++i];
        }
        bool ok = true;
        if (arg == "--role") {
            o.role = value;
            ok = o.role == "both" || o.role == "reader" || o.role == "writer";
        } else if (arg == "--name") {
            o.name = value;
            ok = !o.name.empty();
        } else if (arg == "--seconds") {
            ok = parse_number(value, o.seconds);
        } else if (arg == "--frame-size") {
            ok = parse_number(value, o.frame_size) && o.frame_size >= kHeaderBytes;
        } else if (arg == "--ring-mib") {
            ok = parse_number(value, o.ring_mib) && o.ring_mib > 0 && o.ring_mib <= 1024 * 1024;
        } else if (arg == "--fps") {
            ok = parse_number(value, o.fps);
        } else if (arg == "--corrupt-every") {
            ok = parse_number(value, o.corrupt_every);
        } else if (arg == "--connect-timeout") {
            ok = parse_number(value, o.connect_timeout) && o.connect_timeout > 0;
        } else {
            std::fprintf(stderr, "demo: unknown option %.*s\n", static_cast<int>(arg.size()), arg.data());
            usage(stderr);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "demo: invalid value for %.*s: %.*s\n", static_cast<int>(arg.size()),
                         arg.data(), static_cast<int>(value.size()), value.data());
            return 2;
        }
    }
    return -1;
}

std::string format_ns(std::uint64_t ns) {
    char buf[32];
    if (ns < 1'000) std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
    else if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.1f us", static_cast<double>(ns) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
    return buf;
}

// ---------------------------------------------------------------------------------------------
// Reader role
// ---------------------------------------------------------------------------------------------
int run_reader(const Options& o) {
    zb::BufferConfig config;
    config.payload_size = o.ring_mib * 1024 * 1024;
    config.metadata_size = 1024;
    const std::uint64_t started = now_ns();  // before the buffer exists, so before any timestamp
    zb::Reader reader(o.name, config);

    const bool tty = isatty(STDOUT_FILENO) != 0;
    const std::uint64_t report_every = tty ? 250'000'000ull : 1'000'000'000ull;

    std::uint64_t frames = 0, bytes = 0, errors = 0, error_reports = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
    std::uint64_t interval_frames = 0, interval_bytes = 0, interval_start = 0;
    LatencyHistogram total_latency, interval_latency;
    bool ended = false, writer_seen = false;
    std::string outcome;

    auto report_error = [&](const char* fmt, auto... args) {
        ++errors;
        if (++error_reports <= 10) {
            if (tty) std::fputs("\r\033[K", stdout);
            std::printf("ERROR: ");
            std::printf(fmt, args...);
            std::printf("\n");
            std::fflush(stdout);
        }
    };
    auto live_line = [&](std::uint64_t now) {
        const double dt = static_cast<double>(now - interval_start) / 1e9;
        if (dt <= 0) return;
        std::printf("%s[%5.1fs] %7.0f frames/s  %6.2f GB/s  latency p50 %-9s p99 %-9s frames %llu  errors %llu%s",
                    tty ? "\r\033[K" : "", static_cast<double>(now - first_ns) / 1e9,
                    static_cast<double>(interval_frames) / dt, static_cast<double>(interval_bytes) / dt / 1e9,
                    format_ns(interval_latency.percentile(50)).c_str(),
                    format_ns(interval_latency.percentile(99)).c_str(),
                    static_cast<unsigned long long>(frames), static_cast<unsigned long long>(errors),
                    tty ? "" : "\n");
        std::fflush(stdout);
        interval_frames = interval_bytes = 0;
        interval_latency.clear();
        interval_start = now;
    };

    std::printf("reader: buffer '%s', ring %zu MiB, waiting for the writer...\n", o.name.c_str(), o.ring_mib);
    std::fflush(stdout);

    while (!stop_requested() && !ended) {
        zb::Frame frame;
        try {
            frame = reader.read_frame(std::chrono::milliseconds(100));
        } catch (const zb::WriterDeadException&) {
            outcome = "writer left before its end-of-stream frame";
            ++errors;
            break;
        } catch (const zb::SequenceError& e) {
            report_error("%s", e.what());
            continue;
        }
        const std::uint64_t received = now_ns();
        if (!frame) {
            if (!writer_seen && static_cast<double>(received - started) / 1e9 > o.connect_timeout) {
                outcome = "no writer within the connect timeout";
                ++errors;
                break;
            }
            if (frames > 0 && received - interval_start >= report_every) live_line(received);
            continue;
        }
        if (!writer_seen) {
            writer_seen = true;
            const auto meta = reader.metadata();
            std::printf("reader: writer connected; stream: %.*s\n", static_cast<int>(meta.size()),
                        reinterpret_cast<const char*>(meta.data()));
            first_ns = interval_start = received;
        }

        const std::byte* data = frame.data().data();
        const std::size_t size = frame.size();
        if (size == kEndFrameBytes && load64(data) == kEndMagic) {
            const std::uint64_t sent = load64(data + 8);
            if (sent != frames) report_error("writer sent %llu frames, %llu arrived",
                                             static_cast<unsigned long long>(sent),
                                             static_cast<unsigned long long>(frames));
            ended = true;
            break;
        }
        if (size < kHeaderBytes) {
            report_error("frame %llu has %zu bytes", static_cast<unsigned long long>(frames), size);
            ++frames;
            continue;
        }
        const std::uint64_t stamp = load64(data);
        const std::uint64_t index = load64(data + 8);
        if (index != frames) {
            report_error("frame %llu carries index %llu", static_cast<unsigned long long>(frames),
                         static_cast<unsigned long long>(index));
        }
        if (stamp < started || stamp > received) {
            report_error("frame %llu has an impossible timestamp", static_cast<unsigned long long>(frames));
        } else {
            total_latency.add(received - stamp);
            interval_latency.add(received - stamp);
        }
        if (const PatternCheck check = check_pattern(data, size, index); check.bad_bytes != 0) {
            report_error("frame %llu: %zu wrong bytes, first at offset %zu", static_cast<unsigned long long>(index),
                         check.bad_bytes, check.first_bad);
        }
        frame.release();

        ++frames;
        bytes += size;
        ++interval_frames;
        interval_bytes += size;
        last_ns = received;
        if (received - interval_start >= report_every) live_line(received);
    }
    if (const std::uint64_t now = now_ns(); interval_frames > 0 && now - interval_start >= report_every / 2) live_line(now);
    if (tty && frames > 0) std::printf("\n");

    const bool interrupted = stop_requested() && !ended;
    if (interrupted) outcome = "interrupted";
    if (outcome.empty()) outcome = errors == 0 ? "OK, every byte verified" : "FAILED";

    const double seconds = frames > 1 ? static_cast<double>(last_ns - first_ns) / 1e9 : 0.0;
    std::printf("\nzerobuffer demo summary\n");
    std::printf("  frames      %llu x %zu bytes (ring %zu MiB)\n", static_cast<unsigned long long>(frames),
                frames ? bytes / frames : o.frame_size, o.ring_mib);
    std::printf("  data        %.2f GB in %.2f s\n", static_cast<double>(bytes) / 1e9, seconds);
    if (seconds > 0) {
        std::printf("  throughput  %.0f frames/s, %.2f GB/s\n", static_cast<double>(frames - 1) / seconds,
                    static_cast<double>(bytes - bytes / frames) / seconds / 1e9);
    }
    std::printf("  latency     p50 %s, p99 %s, max %s (commit -> receive)\n",
                format_ns(total_latency.percentile(50)).c_str(), format_ns(total_latency.percentile(99)).c_str(),
                format_ns(total_latency.max()).c_str());
    std::printf("  errors      %llu\n", static_cast<unsigned long long>(errors));
    std::printf("  result      %s\n", outcome.c_str());
    std::fflush(stdout);

    reader.close();
    if (interrupted) return kExitInterrupted;
    return errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Writer role
// ---------------------------------------------------------------------------------------------
zb::Writer connect_writer(const Options& o) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(o.connect_timeout));
    for (;;) {
        try {
            return zb::Writer(o.name);
        } catch (const zb::BufferNotFoundException&) {
        } catch (const zb::CorruptBufferException&) {  // the reader is still initialising it
        }
        if (stop_requested() || std::chrono::steady_clock::now() > deadline) {
            throw zb::BufferNotFoundException("demo: no reader created buffer '" + o.name + "' in time");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int run_writer(const Options& o, bool standalone) {
    zb::Writer writer = connect_writer(o);
    char meta[160];
    const int meta_len = std::snprintf(meta, sizeof meta, "zerobuffer demo, %zu-byte frames, %s", o.frame_size,
                                       o.fps > 0 ? (std::to_string(o.fps) + " frames/s").c_str() : "unthrottled");
    writer.set_metadata(meta, static_cast<std::size_t>(meta_len));

    const std::uint64_t start = now_ns();
    const auto duration = static_cast<std::uint64_t>(o.seconds * 1e9);
    const std::uint64_t period = o.fps > 0 ? static_cast<std::uint64_t>(1e9 / o.fps) : 0;
    std::uint64_t index = 0;
    try {
        while (!stop_requested() && now_ns() - start < duration) {
            if (period != 0) {
                const std::uint64_t due = start + index * period;
                timespec ts{static_cast<time_t>(due / 1'000'000'000ull), static_cast<long>(due % 1'000'000'000ull)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !stop_requested()) {
                }
                if (stop_requested()) break;
            }
            std::span<std::byte> buffer = writer.get_frame_buffer(o.frame_size);
            fill_frame(buffer.data(), buffer.size(), index);
            if (o.corrupt_every != 0 && index % o.corrupt_every == o.corrupt_every - 1) {
                buffer[kHeaderBytes + (index * 7919) % (buffer.size() - kHeaderBytes)] ^= std::byte{0x5A};
            }
            store64(buffer.data(), now_ns());
            writer.commit_frame();
            ++index;
        }
        if (stop_requested()) return kExitInterrupted;
        std::array<std::uint64_t, 3> end{kEndMagic, index, 0};
        static_assert(sizeof end == kEndFrameBytes);
        writer.write_frame(end.data(), sizeof end);
    } catch (const zb::ReaderDeadException& e) {
        if (stop_requested()) return kExitInterrupted;
        std::fprintf(stderr, "writer: %s\n", e.what());
        return 1;
    }
    if (standalone) {
        std::printf("writer: sent %llu frames of %zu bytes in %.2f s\n", static_cast<unsigned long long>(index),
                    o.frame_size, static_cast<double>(now_ns() - start) / 1e9);
    }
    writer.close();
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Both roles: start this program twice and supervise
// ---------------------------------------------------------------------------------------------
pid_t spawn_role(const std::string& self, const char* role, const Options& o, pid_t parent) {
    std::vector<std::string> args = {self,
                                     "--role", role,
                                     "--name", o.name,
                                     "--seconds", std::to_string(o.seconds),
                                     "--frame-size", std::to_string(o.frame_size),
                                     "--ring-mib", std::to_string(o.ring_mib),
                                     "--fps", std::to_string(o.fps),
                                     "--corrupt-every", std::to_string(o.corrupt_every),
                                     "--connect-timeout", std::to_string(o.connect_timeout),
                                     "--supervised", "1"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);  // the supervisor died: stop and clean up
        if (getppid() != parent) _exit(kExitInterrupted);
        execv(self.c_str(), argv.data());
        std::perror("demo: execv");
        _exit(127);
    }
    if (pid < 0) std::perror("demo: fork");
    return pid;
}

// Removes whatever a buffer NAME can leave behind (normally the reader already did).
// Returns how many objects it had to remove.
int remove_buffer_objects(const std::string& name) {
    int removed = 0;
    removed += shm_unlink(("/" + name).c_str()) == 0;
    removed += sem_unlink(("/sem-w-" + name).c_str()) == 0;
    removed += sem_unlink(("/sem-r-" + name).c_str()) == 0;
    removed += unlink(("/tmp/zerobuffer/" + name + ".lock").c_str()) == 0;
    return removed;
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

int run_both(Options o) {
    if (o.name.empty()) o.name = "zbdemo_" + std::to_string(getpid());
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        std::perror("demo: readlink /proc/self/exe");
        return 1;
    }
    self[n] = '\0';

    std::printf("zerobuffer demo: %zu-byte frames for %.1f s through a %zu MiB ring (buffer '%s')\n",
                o.frame_size, o.seconds, o.ring_mib, o.name.c_str());
    const pid_t me = getpid();
    pid_t reader = spawn_role(self, "reader", o, me);
    pid_t writer = reader > 0 ? spawn_role(self, "writer", o, me) : -1;
    int reader_code = reader > 0 ? -1 : 1;
    int writer_code = writer > 0 ? -1 : 1;

    // Wait for both. On a stop signal (or a run far past its time) the children get SIGTERM,
    // and SIGKILL if they have not left 3 s later.
    const std::uint64_t limit = now_ns() + static_cast<std::uint64_t>((o.seconds + 2 * o.connect_timeout + 30) * 1e9);
    std::uint64_t terminate_at = 0;
    bool killed = false;
    while (reader_code < 0 || writer_code < 0) {
        int status = 0;
        const pid_t done = waitpid(-1, &status, WNOHANG);
        if (done == reader) reader_code = exit_code_of(status);
        else if (done == writer) writer_code = exit_code_of(status);
        if (done > 0) continue;
        const std::uint64_t now = now_ns();
        if (terminate_at == 0 && (stop_requested() || now > limit || (reader_code >= 0 && reader_code != 0))) {
            for (pid_t p : {reader_code < 0 ? reader : -1, writer_code < 0 ? writer : -1}) {
                if (p > 0) kill(p, SIGTERM);
            }
            terminate_at = now;
        }
        if (terminate_at != 0 && !killed && now - terminate_at > 3'000'000'000ull) {
            for (pid_t p : {reader_code < 0 ? reader : -1, writer_code < 0 ? writer : -1}) {
                if (p > 0) kill(p, SIGKILL);
            }
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    if (const int removed = remove_buffer_objects(o.name); removed != 0) {
        std::fprintf(stderr, "demo: removed %d object(s) of buffer '%s' that were left behind\n", removed,
                     o.name.c_str());
    }
    if (stop_requested()) return kExitInterrupted;
    if (writer_code != 0) std::fprintf(stderr, "demo: writer exited with status %d\n", writer_code);
    if (reader_code != 0) std::fprintf(stderr, "demo: reader exited with status %d\n", reader_code);
    return reader_code == 0 && writer_code == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    // "--supervised 1" is passed by the "both" mode to its children; strip it before parsing.
    bool supervised = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--supervised" && i + 1 < argc) {
            supervised = true;
            ++i;
            continue;
        }
        args.push_back(argv[i]);
    }
    if (const int code = parse_args(static_cast<int>(args.size()), args.data(), options); code >= 0) return code;
    install_signal_handlers();
    try {
        if (options.role == "both") return run_both(options);
        if (options.name.empty()) options.name = "zbdemo";
        if (options.role == "reader") return run_reader(options);
        return run_writer(options, !supervised);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo (%s): %s\n", options.role.c_str(), e.what());
        return stop_requested() ? kExitInterrupted : 1;
    }
}
