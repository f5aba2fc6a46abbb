#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>

#include "commands.h"
#include "zerobuffer/admin.h"
#include "zerobuffer/exceptions.h"

namespace zbbridge {
namespace {

std::atomic<pid_t> g_worker{0};
std::atomic<void (*)()> g_stop{nullptr};
std::atomic<int> g_signals{0};

void forward_signal(int signal) {
    const pid_t worker = g_worker.load();
    if (worker > 0) ::kill(worker, signal);
}

void worker_signal(int) {
    if (g_signals.fetch_add(1) > 0) ::_exit(130);  // a second signal: stop now
    if (auto* stop = g_stop.load()) stop();
}

void install(void (*handler)(int)) {
    struct sigaction action{};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

int run_worker(const std::string& command, const std::function<int()>& work) {
    install(&worker_signal);
    try {
        return work();
    } catch (const zerobuffer::InvalidNameException& e) {
        std::fprintf(stderr, "zerobuffer-bridge %s: %s\n", command.c_str(), e.what());
        return kExitUsage;
    } catch (const zerobuffer::InvalidArgumentException& e) {
        std::fprintf(stderr, "zerobuffer-bridge %s: %s\n", command.c_str(), e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "zerobuffer-bridge %s: error: %s\n", command.c_str(), e.what());
        return kExitFailed;
    }
}

}  // namespace

void set_stop_handler(void (*stop)()) { g_stop.store(stop); }

int run_supervised(const std::string& command, const std::string& reclaim, const std::function<int()>& work) {
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("zerobuffer-bridge: fork");
        return kExitFailed;
    }
    if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(kExitFailed);  // the supervisor is gone already
        const int code = run_worker(command, work);
        std::fflush(nullptr);
        ::_exit(code);
    }
    g_worker.store(child);
    install(&forward_signal);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            std::perror("zerobuffer-bridge: waitpid");
            return kExitFailed;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    const int signal = WTERMSIG(status);
    std::fprintf(stderr, "zerobuffer-bridge %s: the worker (pid %d) was killed by signal %d\n", command.c_str(),
                 static_cast<int>(child), signal);
    if (!reclaim.empty()) {
        try {
            const auto report = zerobuffer::admin::remove_if_stale(reclaim);
            if (report.removed_objects() > 0) {
                std::fprintf(stderr, "zerobuffer-bridge %s: removed what it left of buffer '%s' (%zu objects)\n",
                             command.c_str(), reclaim.c_str(), report.removed_objects());
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "zerobuffer-bridge %s: cleaning up '%s' failed: %s\n", command.c_str(), reclaim.c_str(),
                         e.what());
        }
    }
    return 128 + signal;
}

}  // namespace zbbridge
