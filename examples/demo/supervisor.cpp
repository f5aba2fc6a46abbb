// zerobuffer demo: both roles. This program starts itself twice, supervises the two processes,
// and removes whatever of the buffer is left.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <semaphore.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "demo.h"

namespace demo {
namespace {

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

}  // namespace

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

}  // namespace demo
