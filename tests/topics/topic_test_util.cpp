#include "topic_test_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <new>
#include <thread>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <unistd.h>

namespace zerobuffer::test::topics {
namespace fs = std::filesystem;

std::string TopicScope::make(std::string_view base) {
    topics_.push_back(unique_name(base));
    return topics_.back();
}

std::vector<std::string> TopicScope::leftovers() const {
    std::vector<std::string> found;
    for (const auto& topic : topics_) {
        const std::string prefix = topic + "@";
        for (const char* dir : {"/dev/shm", "/tmp/zerobuffer"}) {
            std::error_code ec;
            for (const auto& entry : fs::directory_iterator(dir, ec)) {
                const std::string file = entry.path().filename().string();
                if (file.starts_with(prefix) || file.starts_with("sem.sem-w-" + prefix) ||
                    file.starts_with("sem.sem-r-" + prefix)) {
                    found.push_back(entry.path().string());
                }
            }
        }
    }
    return found;
}

void TopicScope::remove_all() const {
    for (const auto& path : leftovers()) {
        std::error_code ec;
        fs::remove(path, ec);
    }
}

SharedFlag::SharedFlag() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<bool>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    flag_ = new (p) std::atomic<bool>(false);
}

SharedFlag::~SharedFlag() { ::munmap(flag_, sizeof(std::atomic<bool>)); }

int kill_and_clean(Child& child) {
    const pid_t pid = child.pid();
    std::vector<std::string> temporary;
    if (::kill(pid, SIGSTOP) == 0) {
        int status = 0;
        if (::waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status)) {
            std::error_code ec;
            for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
                const std::string target = fs::read_symlink(fd.path(), ec).string();
                const std::string base = fs::path(target).filename().string();
                // glibc's temporary name: "sem." and six characters (the final one is sem.sem-w-NAME).
                if (target.starts_with("/dev/shm/sem.") && base.size() == 10 && !base.starts_with("sem.sem-")) {
                    temporary.push_back(target);
                }
            }
        }
    }
    child.kill_hard();
    child.wait(std::chrono::seconds(10));
    int removed = 0;
    for (const auto& path : temporary) removed += ::unlink(path.c_str()) == 0 ? 1 : 0;
    return removed;
}

void pipe_open(int fds[2]) {
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
}

void pipe_close(int fds[2]) {
    for (int i = 0; i < 2; ++i) {
        if (fds[i] >= 0) ::close(fds[i]);
        fds[i] = -1;
    }
}

void pipe_send(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

bool pipe_receive(int fd, void* data, std::size_t size, std::chrono::milliseconds timeout) {
    auto* p = static_cast<char*>(data);
    const auto deadline = Clock::now() + timeout;
    while (size > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd pfd{fd, POLLIN, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(std::max<long long>(left, 0)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        const ssize_t n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

namespace {

template <class... Args>
void note(ReadResult& r, const char* format, Args... args) {
    ++r.bad;
    if (r.problem[0] == '\0') std::snprintf(r.problem, sizeof r.problem, format, args...);
}

}  // namespace

ReadResult read_stream(Subscriber& subscriber, const ReadPlan& plan) {
    ReadResult r;
    r.subscribed_us = now_us();
    std::uint64_t previous_sequence = 0;
    while (r.frames < plan.max_frames) {
        Frame frame;
        try {
            frame = subscriber.read_frame(plan.timeout);
        } catch (const WriterDeadException&) {
            if (r.departures++ == 0) r.departure_us = now_us();
            if (plan.stop_at_departure) break;
            continue;
        }
        if (!frame) {
            if (r.problem[0] == '\0') {
                std::snprintf(r.problem, sizeof r.problem, "no frame within %lld ms after %llu frames",
                              static_cast<long long>(plan.timeout.count()), static_cast<unsigned long long>(r.frames));
            }
            ++r.bad;
            break;
        }
        if (r.frames == 0) {
            r.first_frame_us = now_us();
            r.first_sequence = frame.sequence();
            const auto md = subscriber.metadata();
            r.metadata_ok = std::equal(md.begin(), md.end(), plan.metadata.begin(), plan.metadata.end());
        }
        const auto k = frame_number(frame.data());
        const unsigned long long seq = frame.sequence();
        if (!k) {
            note(r, "frame %llu (sequence %llu, %zu bytes) has wrong bytes", static_cast<unsigned long long>(r.frames),
                 seq, frame.size());
        } else {
            if (frame.size() != plan.sizes.size(*k)) {
                note(r, "frame number %llu has %zu bytes, expected %zu", static_cast<unsigned long long>(*k),
                     frame.size(), plan.sizes.size(*k));
            }
            if (r.frames > 0 && plan.contiguous && *k != r.last + 1) {
                note(r, "frame number %llu follows %llu", static_cast<unsigned long long>(*k),
                     static_cast<unsigned long long>(r.last));
            }
            if (r.frames > 0 && *k <= r.last && seq != 1) {
                note(r, "frame number %llu after %llu: out of order", static_cast<unsigned long long>(*k),
                     static_cast<unsigned long long>(r.last));
            }
            r.first = std::min(r.first, *k);
            r.last = *k;
        }
        if (r.frames > 0 && seq == 1) ++r.restarts;
        if (r.frames > 0 && seq != 1 && seq != previous_sequence + 1) {
            note(r, "sequence %llu after %llu", seq, static_cast<unsigned long long>(previous_sequence));
        }
        previous_sequence = seq;
        ++r.frames;
        if (plan.delay.count() > 0) std::this_thread::sleep_for(plan.delay);
        if (k && *k >= plan.until) break;
    }
    return r;
}

std::chrono::microseconds publish_stream(Publisher& publisher, const Schedule& sizes, std::uint64_t first,
                                         std::uint64_t count, std::chrono::microseconds pace) {
    std::chrono::microseconds longest{0};
    std::vector<std::byte> frame(sizes.max);
    auto next = Clock::now();
    for (std::uint64_t k = first; k < first + count; ++k) {
        const std::size_t size = sizes.size(k);
        fill_frame({frame.data(), size}, k);
        const auto t0 = Clock::now();
        publisher.publish(frame.data(), size);
        longest = std::max(longest, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0));
        if (pace.count() > 0) {
            next += pace;
            std::this_thread::sleep_until(next);
        }
    }
    return longest;
}

std::string describe(const ReadResult& r) {
    char text[512];
    std::snprintf(text, sizeof text,
                  "frames %llu (numbers %llu..%llu), bad %llu, departures %llu, restarts %llu, metadata %s%s%s",
                  static_cast<unsigned long long>(r.frames), static_cast<unsigned long long>(r.first),
                  static_cast<unsigned long long>(r.last), static_cast<unsigned long long>(r.bad),
                  static_cast<unsigned long long>(r.departures), static_cast<unsigned long long>(r.restarts),
                  r.metadata_ok ? "ok" : "WRONG", r.problem[0] != '\0' ? "; first problem: " : "", r.problem);
    return text;
}

std::optional<SubscriberInfo> info_of(const Publisher& publisher, const std::string& buffer_name) {
    for (auto& s : publisher.subscribers()) {
        if (s.buffer_name == buffer_name) return s;
    }
    return std::nullopt;
}

}  // namespace zerobuffer::test::topics
