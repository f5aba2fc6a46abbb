#include "resources.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <linux/perf_event.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sbs {
namespace {

constexpr const char* kTracepointIdFiles[] = {
    "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
    "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
};
// start() reads the counter then calls getrusage; stop() reads it again: the getrusage and the
// second read are counted between the two reads.
constexpr std::uint64_t kMeterOwnSyscalls = 2;

int read_id(const char* path) {
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return -1;
    int id = -1;
    if (std::fscanf(f, "%d", &id) != 1) id = -1;
    std::fclose(f);
    return id;
}

int open_counter(int tracepoint_id) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = static_cast<std::uint64_t>(tracepoint_id);
    attr.exclude_hv = 1;
    return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

// A helper process unshares its mount namespace, mounts tracefs there (invisible to the rest
// of the machine, gone when the helper exits) and sends the tracepoint id back.
int id_from_private_tracefs(std::string& why_not) {
    struct Answer {
        int id = -1;
        int err = 0;
        char stage[48] = {};
    } answer;
    int fds[2];
    if (pipe(fds) != 0) {
        why_not = std::string("pipe: ") + std::strerror(errno);
        return -1;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        Answer a;
        auto fail = [&](const char* stage) {
            a.err = errno;
            std::snprintf(a.stage, sizeof a.stage, "%s", stage);
        };
        if (unshare(CLONE_NEWNS) != 0) {
            fail("unshare(CLONE_NEWNS)");
        } else if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            fail("making mounts private");
        } else if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
            fail("mount tracefs");
        } else if ((a.id = read_id(kTracepointIdFiles[0])) < 0) {
            fail("reading the sys_enter id");
        }
        (void)!write(fds[1], &a, sizeof a);
        _exit(0);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        why_not = std::string("fork: ") + std::strerror(errno);
        return -1;
    }
    const bool got = read(fds[0], &answer, sizeof answer) == static_cast<ssize_t>(sizeof answer);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!got) {
        why_not = "the tracefs helper process gave no answer";
        return -1;
    }
    if (answer.id < 0) {
        why_not = std::string("tracefs is not mounted and cannot be mounted privately (") + answer.stage + ": " +
                  std::strerror(answer.err) + ")";
    }
    return answer.id;
}

double microseconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec); }

}  // namespace

SyscallCounting probe_syscall_counting() {
    SyscallCounting result;
    int id = -1;
    for (const char* file : kTracepointIdFiles) {
        if ((id = read_id(file)) >= 0) {
            result.method = "perf_event_open on raw_syscalls:sys_enter (tracefs mounted)";
            break;
        }
    }
    if (id < 0) {
        id = id_from_private_tracefs(result.why_not);
        if (id < 0) return result;
        result.method = "perf_event_open on raw_syscalls:sys_enter (id from tracefs in a private mount namespace)";
    }
    const int fd = open_counter(id);
    if (fd < 0) {
        const int err = errno;
        int paranoid = 99;
        if (FILE* f = std::fopen("/proc/sys/kernel/perf_event_paranoid", "r")) {
            if (std::fscanf(f, "%d", &paranoid) != 1) paranoid = 99;
            std::fclose(f);
        }
        result.why_not = std::string("perf_event_open(raw_syscalls:sys_enter): ") + std::strerror(err) +
                         " (kernel.perf_event_paranoid = " + std::to_string(paranoid) +
                         "; counting a tracepoint needs CAP_PERFMON or perf_event_paranoid <= -1)";
        result.method.clear();
        return result;
    }
    close(fd);
    result.tracepoint_id = id;
    return result;
}

ResourceMeter::ResourceMeter(int syscall_tracepoint) {
    if (syscall_tracepoint >= 0) fd_ = open_counter(syscall_tracepoint);
}

ResourceMeter::~ResourceMeter() {
    if (fd_ >= 0) close(fd_);
}

std::uint64_t ResourceMeter::read_syscalls() const {
    std::uint64_t value = 0;
    if (fd_ < 0 || read(fd_, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) return 0;
    return value;
}

void ResourceMeter::start() {
    start_syscalls_ = read_syscalls();
    getrusage(RUSAGE_SELF, &start_usage_);
}

Resources ResourceMeter::stop() const {
    const std::uint64_t syscalls = read_syscalls();
    rusage now{};
    getrusage(RUSAGE_SELF, &now);
    Resources r;
    r.minflt = static_cast<double>(now.ru_minflt - start_usage_.ru_minflt);
    r.majflt = static_cast<double>(now.ru_majflt - start_usage_.ru_majflt);
    r.voluntary_switches = static_cast<double>(now.ru_nvcsw - start_usage_.ru_nvcsw);
    r.involuntary_switches = static_cast<double>(now.ru_nivcsw - start_usage_.ru_nivcsw);
    r.cpu_us = microseconds(now.ru_utime) + microseconds(now.ru_stime) - microseconds(start_usage_.ru_utime) -
               microseconds(start_usage_.ru_stime);
    if (fd_ >= 0) {
        const std::uint64_t delta = syscalls - start_syscalls_;
        r.syscalls = static_cast<double>(delta > kMeterOwnSyscalls ? delta - kMeterOwnSyscalls : 0);
    }
    return r;
}

}  // namespace sbs
