#include "processes.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sbs {

// The anonymous shared memory of one measurement; the arena for floors follows it.
struct SharedBlock {
    std::atomic<std::uint64_t> step[2];
    std::atomic<int> failed;
    char base_name[160];
    char error[2][320];
    Measurement result;
};

namespace {

constexpr std::size_t kArenaOffset = (sizeof(SharedBlock) + 4095) / 4096 * 4096;
constexpr double kFailureGrace_s = 0.5;  // the other side's time to finish after one side failed
constexpr double kRendezvousTimeout_s = 30;

int g_interrupt = 0;
int g_left_behind = 0;
unsigned g_counter = 0;
pid_t g_parent = 0;

sigset_t signals(bool with_child) {
    sigset_t set;
    sigemptyset(&set);
    if (with_child) sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::runtime_error("sched_setaffinity(CPU " + std::to_string(cpu) + "): " + std::strerror(errno));
    }
}

[[noreturn]] void child_main(int index, SharedBlock* shared, const Settings& settings, const SideFn& fn) {
    const sigset_t none = [] {
        sigset_t s;
        sigemptyset(&s);
        return s;
    }();
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent
    if (getppid() != g_parent) _exit(120);
    int code = 0;
    try {
        pin_to_cpu(settings.cpu[index]);
        Side side(index, shared, settings);
        fn(side);
    } catch (const std::exception& e) {
        std::snprintf(shared->error[index], sizeof shared->error[index], "%s", e.what());
        code = 1;
    } catch (...) {
        std::snprintf(shared->error[index], sizeof shared->error[index], "unknown exception");
        code = 1;
    }
    if (code != 0) shared->failed.store(1);
    _exit(code);
}

bool exited_ok(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    }
    return "ended oddly";
}

void reap(pid_t pid, int& status) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

// Waits for the running children; kills them on timeout, on an interrupt, or shortly after the
// other side failed. Returns why it had to kill, or "".
std::string supervise(const pid_t pids[2], int status[2], bool killed[2], SharedBlock* shared, double timeout_s) {
    const sigset_t watched = signals(true);
    bool running[2] = {pids[0] > 0, pids[1] > 0};
    std::uint64_t deadline = now_ns() + to_ns(timeout_s);
    std::string why;
    auto kill_running = [&](const std::string& reason) {
        why = reason;
        for (int i = 0; i < 2; ++i) {
            if (!running[i]) continue;
            kill(pids[i], SIGKILL);
            reap(pids[i], status[i]);
            running[i] = false;
            killed[i] = true;
        }
    };
    while (running[0] || running[1]) {
        for (int i = 0; i < 2; ++i) {
            if (running[i] && waitpid(pids[i], &status[i], WNOHANG) == pids[i]) {
                running[i] = false;
                if (!exited_ok(status[i])) {
                    shared->failed.store(1);
                    deadline = std::min(deadline, now_ns() + to_ns(kFailureGrace_s));
                }
            }
        }
        if (!running[0] && !running[1]) break;
        const std::uint64_t now = now_ns();
        if (now >= deadline) {
            kill_running(shared->failed.load() ? "" : "watchdog: no result within " + std::to_string(timeout_s) + " s");
            break;
        }
        const std::uint64_t wait = std::min<std::uint64_t>(deadline - now, 200'000'000);
        const timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
        const int sig = sigtimedwait(&watched, nullptr, &ts);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            g_interrupt = sig;
            kill_running("interrupted");
        }
    }
    return why;
}

std::vector<std::string> objects(const std::string& tag, const char* dir) {
    std::vector<std::string> found;
    if (DIR* d = opendir(dir)) {
        while (const dirent* e = readdir(d)) {
            if (std::strstr(e->d_name, tag.c_str()) != nullptr) found.push_back(std::string(dir) + "/" + e->d_name);
        }
        closedir(d);
    }
    return found;
}

}  // namespace

void throw_spin_timeout(const char* what) { throw std::runtime_error(std::string("timed out waiting for ") + what); }

Measurement& Side::result() noexcept { return shared_->result; }

std::byte* Side::arena() noexcept { return reinterpret_cast<std::byte*>(shared_) + kArenaOffset; }

std::string Side::name(const std::string& suffix) const { return std::string(shared_->base_name) + "_" + suffix; }

void Side::arrive(std::uint64_t step) noexcept { shared_->step[index_].store(step, std::memory_order_release); }

std::uint64_t Side::await_peer(std::uint64_t step) const {
    const std::atomic<std::uint64_t>& peer = shared_->step[1 - index_];
    const std::uint64_t deadline = now_ns() + to_ns(kRendezvousTimeout_s);
    for (std::uint32_t i = 0;; ++i) {
        const std::uint64_t reached = peer.load(std::memory_order_acquire);
        if (reached >= step) return reached;
        if (shared_->failed.load(std::memory_order_relaxed) != 0) throw std::runtime_error("the other side failed");
        if (i < 4096) {
            cpu_relax();
        } else {
            const timespec pause{0, 20'000};
            nanosleep(&pause, nullptr);
            if (now_ns() > deadline) {
                throw std::runtime_error("the other side did not reach step " + std::to_string(step) + " within 30 s");
            }
        }
    }
}

Measurement run_processes(const Settings& settings, const SideFn& a, const SideFn& b, std::size_t arena_bytes,
                          double timeout_s) {
    Measurement failed_setup;
    const std::size_t total = kArenaOffset + arena_bytes;
    void* memory = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        std::snprintf(failed_setup.error, sizeof failed_setup.error, "mmap: %s", std::strerror(errno));
        return failed_setup;
    }
    auto* shared = new (memory) SharedBlock();
    std::snprintf(shared->base_name, sizeof shared->base_name, "%s%u", settings.tag.c_str(), g_counter++);

    const SideFn* fns[2] = {&a, &b};
    pid_t pids[2] = {-1, -1};
    std::string error;
    for (int i = 0; i < 2; ++i) {
        if (!*fns[i]) continue;
        std::fflush(nullptr);
        const pid_t pid = fork();
        if (pid == 0) child_main(i, shared, settings, *fns[i]);
        if (pid < 0) {
            error = std::string("fork: ") + std::strerror(errno);
            shared->failed.store(1);
            break;
        }
        pids[i] = pid;
    }
    int status[2] = {0, 0};
    bool killed[2] = {false, false};
    const std::string why = supervise(pids, status, killed, shared, error.empty() ? timeout_s : 0);

    for (int i = 0; i < 2; ++i) {
        if (pids[i] <= 0) continue;
        std::string side_error = shared->error[i];
        if (side_error.empty() && !killed[i] && !exited_ok(status[i])) side_error = describe(status[i]);
        if (side_error.empty()) continue;
        if (!error.empty()) error += "; ";
        error += (i == 0 ? "writer side: " : "reader side: ") + side_error;
    }
    if (!why.empty()) error += (error.empty() ? "" : "; ") + why;

    Measurement m = shared->result;
    m.ok = error.empty();
    std::snprintf(m.error, sizeof m.error, "%s", error.c_str());
    shared->~SharedBlock();
    munmap(memory, total);

    const int left = sweep_objects(settings.tag);
    if (left > 0 && m.ok) {
        g_left_behind += left;
        std::fprintf(stderr, "note: a successful measurement left %d object(s) in /dev/shm or /tmp/zerobuffer\n", left);
    }
    return m;
}

void install_signal_handling() {
    g_parent = getpid();
    const sigset_t set = signals(true);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed stdout (| head) must not skip the clean-up
}

int poll_interrupt() {
    if (g_interrupt != 0) return g_interrupt;
    const sigset_t set = signals(false);
    const timespec zero{0, 0};
    const int sig = sigtimedwait(&set, nullptr, &zero);
    if (sig > 0) g_interrupt = sig;
    return g_interrupt;
}

int sweep_objects(const std::string& tag) {
    int removed = 0;
    for (const char* dir : {"/dev/shm", "/tmp/zerobuffer"}) {
        for (const std::string& path : objects(tag, dir)) removed += unlink(path.c_str()) == 0 ? 1 : 0;
    }
    return removed;
}

int count_objects(const std::string& tag) {
    return static_cast<int>(objects(tag, "/dev/shm").size() + objects(tag, "/tmp/zerobuffer").size());
}

int objects_left_by_successful_runs() { return g_left_behind; }

}  // namespace sbs
