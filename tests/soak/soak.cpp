// Soak: N frames of random sizes from a writer process to a reader process, every byte of every
// frame checked. Reports throughput, and the RSS and descriptor counts of both processes at the
// start (after the first frame) and at the end, so that growth shows.
//   zerobuffer_soak [--frames N] [--max-size BYTES] [--ring-mib MIB] [--seed S]
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zerobuffer/zerobuffer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::uint64_t frames = 2'000'000;
    std::uint64_t max_size = 64 * 1024;
    std::uint64_t ring_mib = 64;
    std::uint64_t seed = 1;
};

std::uint64_t mix(std::uint64_t x) {  // splitmix64
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

std::size_t size_of(const Options& o, std::uint64_t seq) { return 1 + mix(o.seed * 0x1000193 + seq) % o.max_size; }

// Frame content: 8-byte words seq * K + word index; the tail takes the first bytes of the next word.
void fill(std::byte* p, std::size_t n, std::uint64_t seq) {
    const std::uint64_t base = seq * 0x9E3779B97F4A7C15ull;
    std::size_t w = 0;
    for (; (w + 1) * 8 <= n; ++w) {
        const std::uint64_t v = base + w;
        std::memcpy(p + w * 8, &v, 8);
    }
    const std::uint64_t v = base + w;
    std::memcpy(p + w * 8, &v, n - w * 8);
}

bool check(const std::byte* p, std::size_t n, std::uint64_t seq) {
    const std::uint64_t base = seq * 0x9E3779B97F4A7C15ull;
    std::size_t w = 0;
    for (; (w + 1) * 8 <= n; ++w) {
        std::uint64_t v;
        std::memcpy(&v, p + w * 8, 8);
        if (v != base + w) return false;
    }
    const std::uint64_t v = base + w;
    return std::memcmp(p + w * 8, &v, n - w * 8) == 0;
}

struct Usage {
    long rss_kib = -1;
    long fds = -1;
};

Usage usage_of(pid_t pid) {
    Usage u;
    const std::string proc = "/proc/" + std::to_string(pid);
    std::ifstream status(proc + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) u.rss_kib = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    std::error_code ec;
    u.fds = 0;
    for (auto it = std::filesystem::directory_iterator(proc + "/fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        ++u.fds;
    }
    return u;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::uint64_t value = std::strtoull(argv[i + 1], nullptr, 10);
        if (key == "--frames") o.frames = value;
        else if (key == "--max-size") o.max_size = value;
        else if (key == "--ring-mib") o.ring_mib = value;
        else if (key == "--seed") o.seed = value;
        else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            std::exit(2);
        }
    }
    if (o.frames == 0 || o.max_size == 0 || o.ring_mib == 0 || o.max_size + 64 > o.ring_mib * 1024 * 1024 / 2) {
        std::fprintf(stderr, "bad options: frames, max-size and ring-mib must be positive, max-size below half the ring\n");
        std::exit(2);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    const std::string name = "zbsoak_" + std::to_string(::getpid());
    zerobuffer::BufferConfig config;
    config.metadata_size = 0;
    config.payload_size = o.ring_mib * 1024 * 1024;
    zerobuffer::Reader reader(name, config);

    int go[2];
    if (::pipe(go) != 0) return 1;
    const pid_t writer_pid = ::fork();
    if (writer_pid == 0) {
        ::close(go[1]);
        int code = 0;
        try {
            zerobuffer::Writer writer(name);
            for (std::uint64_t seq = 1; seq <= o.frames; ++seq) {
                const std::size_t n = size_of(o, seq);
                zerobuffer::FrameReservation r = writer.acquire_frame(n);
                fill(r.data().data(), n, seq);
                r.commit();
            }
            char c;
            while (::read(go[0], &c, 1) < 0) {  // stay until the reader has sampled us
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "soak writer: %s\n", e.what());
            code = 1;
        }
        ::_exit(code);
    }
    ::close(go[0]);

    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;
    Usage reader_start, writer_start;
    Clock::time_point t0;
    for (std::uint64_t seq = 1; seq <= o.frames; ++seq) {
        zerobuffer::Frame f;
        try {
            f = reader.read_frame(std::chrono::seconds(10));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "soak reader: frame %" PRIu64 ": %s\n", seq, e.what());
            errors++;
            break;
        }
        if (!f) {
            std::fprintf(stderr, "soak reader: frame %" PRIu64 " did not arrive\n", seq);
            errors++;
            break;
        }
        if (f.sequence() != seq || f.size() != size_of(o, seq) || !check(f.data().data(), f.size(), seq)) {
            if (errors++ < 10) std::fprintf(stderr, "soak reader: frame %" PRIu64 " is wrong\n", seq);
        }
        bytes += f.size();
        if (seq == 1) {
            t0 = Clock::now();
            reader_start = usage_of(::getpid());
            writer_start = usage_of(writer_pid);
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const Usage reader_end = usage_of(::getpid());
    const Usage writer_end = usage_of(writer_pid);
    ::close(go[1]);
    int status = 0;
    ::waitpid(writer_pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) errors++;
    reader.close();

    std::printf("SOAK: %" PRIu64 " frames (1..%" PRIu64 " bytes), %.3f GB in %.2f s = %.2f GB/s, %" PRIu64 " errors\n",
                o.frames, o.max_size, static_cast<double>(bytes) / 1e9, seconds,
                seconds > 0 ? static_cast<double>(bytes) / 1e9 / seconds : 0.0, errors);
    std::printf("SOAK: reader RSS %ld -> %ld KiB, fds %ld -> %ld; writer RSS %ld -> %ld KiB, fds %ld -> %ld\n",
                reader_start.rss_kib, reader_end.rss_kib, reader_start.fds, reader_end.fds, writer_start.rss_kib,
                writer_end.rss_kib, writer_start.fds, writer_end.fds);
    return errors == 0 ? 0 : 1;
}
