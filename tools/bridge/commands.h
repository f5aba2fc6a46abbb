// The subcommands of zerobuffer-bridge and the exit codes they keep to.
#pragma once

#include <functional>
#include <string>

#include "live_figures.h"

namespace zbbridge {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

int cmd_send(int argc, char** argv);
int cmd_recv(int argc, char** argv);
int cmd_keygen(int argc, char** argv);

// Runs `work` in a child process (the worker) and waits for it; returns its exit code, or
// 128 + signal. SIGINT and SIGTERM are passed on to the worker, which stops cleanly; a worker
// killed outright (SIGKILL) has its local buffer `reclaim` (if not empty) removed by this
// process, once provably nobody's; a killed supervisor makes the worker stop (PR_SET_PDEATHSIG).
// So neither a clean nor a killed exit leaves anything in /dev/shm or /tmp/zerobuffer.
// `work` runs with `request_stop` to be called from the worker's signal handler; exceptions it
// throws are printed as "zerobuffer-bridge <command>: error: ..." and give exit code 1.
int run_supervised(const std::string& command, const std::string& reclaim, const std::function<int()>& work);
// Called (async-signal-safe) by the worker's SIGINT/SIGTERM handler.
void set_stop_handler(void (*stop)());

namespace detail {
template <class Bridge>
inline Bridge* g_bridge = nullptr;
template <class Bridge>
void stop_bridge() {
    if (g_bridge<Bridge> != nullptr) g_bridge<Bridge>->request_stop();
}
}  // namespace detail

// The worker's work for `send` and `recv`: runs the Sender or Receiver made by `make` until
// SIGINT/SIGTERM, printing its figures (labelled `label`) once a second and at the end.
template <class Bridge, class Make>
int serve(Make&& make, const std::string& label, FiguresFormat format) {
    Bridge bridge = make();
    detail::g_bridge<Bridge> = &bridge;
    set_stop_handler(&detail::stop_bridge<Bridge>);
    LiveFigures figures([&] { return bridge.stats(); }, label, format);
    bridge.run();
    set_stop_handler(nullptr);
    figures.stop();
    detail::g_bridge<Bridge> = nullptr;
    return kExitOk;
}

}  // namespace zbbridge
