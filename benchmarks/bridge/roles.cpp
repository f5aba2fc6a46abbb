#include "roles.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <zmq.h>

#include "zerobuffer/bridge.h"
#include "zerobuffer/zerobuffer.h"

namespace bridge_bench {
namespace {

std::atomic<bool> g_stop{false};
void on_term(int) { g_stop.store(true); }

void write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n <= 0) return;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

bool read_all(int fd, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::read(fd, p, size);
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

zerobuffer::bridge::LinkOptions link(const std::string& endpoint, bool bind) {
    zerobuffer::bridge::LinkOptions options;
    options.endpoints.push_back(zerobuffer::bridge::parse_endpoint(endpoint, bind));
    options.linger = std::chrono::milliseconds(0);
    return options;
}

template <class Bridge>
void run_until_term(Bridge& bridge) {
    std::thread watcher([&] {
        while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        bridge.request_stop();
    });
    bridge.run();
    g_stop.store(true);
    watcher.join();
}

}  // namespace

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void stamp(std::byte* data, std::size_t size, bool with_time) {
    if (with_time && size >= 8) {
        const std::int64_t t = now_ns();
        std::memcpy(data, &t, 8);
    }
}

std::uint64_t cpu_us() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return std::uint64_t(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000 +
           std::uint64_t(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

Role::Role(const std::string& netns, std::function<int(int report_fd)> body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
        ::close(fds[0]);
        struct sigaction action{};
        action.sa_handler = on_term;
        ::sigaction(SIGTERM, &action, nullptr);
        if (!netns.empty()) {
            const int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(120);
        }
        int code = 1;
        try {
            code = body(fds[1]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bridge_bench role: %s\n", e.what());
        }
        ::_exit(code);
    }
    ::close(fds[1]);
    pipe_read_ = fds[0];
}

Role::~Role() {
    stop();
    ::close(pipe_read_);
}

void Role::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
}

int run_producer(const std::string& buffer, const Stream& stream) {
    zerobuffer::WriterOptions options;
    options.write_timeout = std::chrono::seconds(60);
    std::optional<zerobuffer::Writer> writer;
    for (int i = 0; i < 2000 && !writer; ++i) {
        try {
            writer.emplace(buffer, options);
        } catch (const zerobuffer::ZeroBufferException&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    if (!writer) return 3;
    for (std::uint64_t k = 0; k < stream.count && !g_stop.load(std::memory_order_relaxed); ++k) {
        auto reservation = writer->acquire_frame(stream.size);
        std::memset(reservation.data().data(), static_cast<int>(k & 0xFF), std::min<std::size_t>(stream.size, 64));
        stamp(reservation.data().data(), stream.size, stream.pace.count() > 0);
        reservation.commit();
        if (stream.pace.count() > 0) std::this_thread::sleep_for(stream.pace);
    }
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return 0;
}

int run_sender(const std::string& buffer, const std::string& endpoint, bool zero_copy, int report_fd) {
    zerobuffer::bridge::SenderOptions options;
    options.link = link(endpoint, false);
    options.buffer.payload_size = 64 << 20;
    options.zero_copy = zero_copy;
    zerobuffer::bridge::Sender sender(buffer, options);
    const std::uint64_t cpu_before = cpu_us();
    run_until_term(sender);
    const std::uint64_t report[2] = {cpu_us() - cpu_before, sender.stats().frames};
    write_all(report_fd, report, sizeof report);
    return 0;
}

int run_receiver(const std::string& buffer, const std::string& endpoint) {
    zerobuffer::bridge::ReceiverOptions options;
    options.link = link(endpoint, true);
    zerobuffer::bridge::Receiver receiver(buffer, options);
    run_until_term(receiver);
    return 0;
}

int run_push(const std::string& endpoint, const Stream& stream, bool zero_copy) {
    void* context = zmq_ctx_new();
    void* push = zmq_socket(context, ZMQ_PUSH);
    const int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(push, endpoint.c_str());
    std::vector<std::byte> data(stream.size, std::byte{7});
    for (std::uint64_t k = 0; k < stream.count && !g_stop.load(std::memory_order_relaxed); ++k) {
        stamp(data.data(), stream.size, stream.pace.count() > 0);
        if (zero_copy) {
            zmq_msg_t msg;
            zmq_msg_init_data(&msg, data.data(), data.size(), nullptr, nullptr);
            zmq_msg_send(&msg, push, 0);
        } else {
            zmq_send(push, data.data(), data.size(), 0);
        }
        if (stream.pace.count() > 0) std::this_thread::sleep_for(stream.pace);
    }
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    zmq_close(push);
    zmq_ctx_term(context);
    return 0;
}

namespace {
// Records one received frame into `m`.
void record(Measured& m, const std::byte* data, std::size_t size, bool timed, std::int64_t& first, std::int64_t& last) {
    const std::int64_t now = now_ns();
    if (m.frames == 0) first = now;
    last = now;
    ++m.frames;
    m.bytes += size;
    if (timed && size >= 8) {
        std::int64_t sent = 0;
        std::memcpy(&sent, data, 8);
        m.latencies_ns.push_back(now - sent);
    }
}
}  // namespace

int run_pull(const std::string& endpoint, const Stream& stream, int report_fd) {
    void* context = zmq_ctx_new();
    void* pull = zmq_socket(context, ZMQ_PULL);
    zmq_bind(pull, endpoint.c_str());
    Measured m;
    std::int64_t first = 0, last = 0;
    const int timeout = 20000;
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    while (m.frames < stream.count) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, pull, 0) < 0) break;
        record(m, static_cast<const std::byte*>(zmq_msg_data(&msg)), zmq_msg_size(&msg), stream.pace.count() > 0, first, last);
        zmq_msg_close(&msg);
    }
    m.seconds = double(last - first) / 1e9;
    write_measured(report_fd, m);
    zmq_close(pull);
    zmq_ctx_term(context);
    return 0;
}

Measured consume(const std::string& buffer, const Stream& stream) {
    zerobuffer::BufferConfig config;
    config.payload_size = 64 << 20;
    zerobuffer::Reader reader(buffer, config);
    Measured m;
    std::int64_t first = 0, last = 0;
    while (m.frames < stream.count) {
        zerobuffer::Frame frame = reader.read_frame(std::chrono::seconds(20));
        if (!frame) break;
        record(m, frame.data().data(), frame.size(), stream.pace.count() > 0, first, last);
    }
    m.seconds = double(last - first) / 1e9;
    return m;
}

void write_measured(int fd, const Measured& m) {
    const std::uint64_t n = m.latencies_ns.size();
    write_all(fd, &m.seconds, sizeof m.seconds);
    write_all(fd, &m.frames, sizeof m.frames);
    write_all(fd, &m.bytes, sizeof m.bytes);
    write_all(fd, &n, sizeof n);
    write_all(fd, m.latencies_ns.data(), n * sizeof(std::int64_t));
}

Measured read_measured(int fd) {
    Measured m;
    std::uint64_t n = 0;
    if (!read_all(fd, &m.seconds, sizeof m.seconds) || !read_all(fd, &m.frames, sizeof m.frames) ||
        !read_all(fd, &m.bytes, sizeof m.bytes) || !read_all(fd, &n, sizeof n)) {
        return {};
    }
    m.latencies_ns.resize(n);
    read_all(fd, m.latencies_ns.data(), n * sizeof(std::int64_t));
    return m;
}

}  // namespace bridge_bench
