#include "platform/posix/process.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {

struct StatFields {
    char state = '?';
    std::uint64_t start_time = 0;
};

// Reads /proc/PID/stat. The command name (field 2) is in parentheses and may itself contain
// spaces or ')', so parsing starts after the last ')'.
std::optional<StatFields> read_stat(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FileDescriptor fd(retry_eintr([&] { return ::open(path, O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return std::nullopt;
    char buf[1024];
    const auto n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf - 1); });
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    const char* close_paren = std::strrchr(buf, ')');
    if (close_paren == nullptr || close_paren[1] != ' ') return std::nullopt;
    const char* p = close_paren + 2;  // field 3: state
    StatFields fields;
    fields.state = *p;
    // Skip to field 22 (starttime): we are at field 3, so 19 more separators.
    for (int field = 3; field < 22; ++field) {
        p = std::strchr(p, ' ');
        if (p == nullptr) return std::nullopt;
        ++p;
    }
    fields.start_time = std::strtoull(p, nullptr, 10);
    return fields;
}

bool kill_says_exists(pid_t pid) {
    if (::kill(pid, 0) == 0) return true;
    return errno == EPERM;  // exists, owned by another user
}

}  // namespace

pid_t current_pid() noexcept { return ::getpid(); }

std::optional<std::int64_t> start_time_seconds(const ProcessIdentity& who) {
    if (who.start_time == 0) return std::nullopt;
    static const std::int64_t boot = [] {
        FileDescriptor fd(retry_eintr([] { return ::open("/proc/stat", O_RDONLY | O_CLOEXEC); }));
        if (!fd.valid()) return std::int64_t{-1};
        std::string text;
        char buf[4096];
        for (;;) {
            const auto n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
        }
        const auto at = text.find("\nbtime ");
        return at == std::string::npos ? std::int64_t{-1} : static_cast<std::int64_t>(std::strtoll(text.c_str() + at + 7, nullptr, 10));
    }();
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (boot < 0 || ticks <= 0) return std::nullopt;
    return boot + static_cast<std::int64_t>(who.start_time / static_cast<std::uint64_t>(ticks));
}

std::optional<ProcessIdentity> identify_process(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    if (const auto stat = read_stat(pid)) {
        if (stat->state == 'Z' || stat->state == 'X') return std::nullopt;
        return ProcessIdentity{pid, stat->start_time};
    }
    // /proc unreadable (hidepid, another PID namespace view): fall back to kill().
    if (kill_says_exists(pid)) return ProcessIdentity{pid, 0};
    return std::nullopt;
}

ProcessState probe_process(const ProcessIdentity& who) {
    if (who.pid <= 0) return ProcessState::dead;
    if (const auto stat = read_stat(who.pid)) {
        if (stat->state == 'Z' || stat->state == 'X') return ProcessState::dead;
        if (who.start_time != 0 && stat->start_time != who.start_time) return ProcessState::dead;
        return ProcessState::alive;
    }
    return kill_says_exists(who.pid) ? ProcessState::alive : ProcessState::dead;
}

bool pid_alive(std::uint64_t pid) {
    if (pid == 0 || pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) return false;
    return identify_process(static_cast<pid_t>(pid)).has_value();
}

std::string process_name(std::uint64_t pid) {
    if (pid == 0 || pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) return {};
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%llu/comm", static_cast<unsigned long long>(pid));
    FileDescriptor fd(retry_eintr([&] { return ::open(path, O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return {};
    char buf[64];
    const auto n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
    if (n <= 0) return {};
    std::string name(buf, static_cast<std::size_t>(n));
    while (!name.empty() && (name.back() == '\n' || name.back() == '\0')) name.pop_back();
    return name;
}

std::optional<std::uint64_t> flock_holder(dev_t dev, ino_t ino) {
    // Lines look like: "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF" (major:minor:inode).
    FileDescriptor fd(retry_eintr([&] { return ::open("/proc/locks", O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        const auto n = retry_eintr([&] { return ::read(fd.get(), buf, sizeof buf); });
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > (1u << 22)) break;  // a pathological number of locks: stop reading
    }
    char want[96];
    std::snprintf(want, sizeof want, " %02x:%02x:%llu ", major(dev), minor(dev), static_cast<unsigned long long>(ino));
    std::size_t at = 0;
    while ((at = text.find(want, at)) != std::string::npos) {
        const std::size_t line_start = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
        const std::string_view line(text.data() + line_start, at - line_start);
        // A holder, not a waiter ("->"); the PID is the last field before the device triple.
        if (line.find("FLOCK") != std::string_view::npos && line.find("->") == std::string_view::npos) {
            const std::string pid_text(line.substr(line.find_last_of(' ') + 1));
            const auto pid = std::strtoll(pid_text.c_str(), nullptr, 10);
            if (pid > 0) return static_cast<std::uint64_t>(pid);
        }
        at += 1;
    }
    return std::nullopt;
}

}  // namespace zerobuffer::posix
