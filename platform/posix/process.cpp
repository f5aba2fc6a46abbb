#include "platform/posix/process.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include <fcntl.h>
#include <signal.h>
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

}  // namespace zerobuffer::posix
