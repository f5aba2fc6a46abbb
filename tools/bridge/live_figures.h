// The live figures of `send` and `recv`: once a second on standard error, frames/s, MB/s, drops,
// gaps, reconnects (text or one JSON object per line), and a final line at exit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "zerobuffer/bridge.h"

namespace zbbridge {

enum class FiguresFormat { text, json, none };

// One line of figures: `rate_*` over `seconds`, totals from `now`.
std::string figures_line(const std::string& label, const zerobuffer::bridge::BridgeStats& now,
                         const zerobuffer::bridge::BridgeStats& before, double seconds, FiguresFormat format, bool final);

class LiveFigures {
public:
    LiveFigures(std::function<zerobuffer::bridge::BridgeStats()> source, std::string label, FiguresFormat format);
    ~LiveFigures();  // stop()
    LiveFigures(const LiveFigures&) = delete;
    LiveFigures& operator=(const LiveFigures&) = delete;
    // Stops the printing thread and prints the final line (once).
    void stop();

private:
    void loop();

    std::function<zerobuffer::bridge::BridgeStats()> source_;
    std::string label_;
    FiguresFormat format_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool stopped_ = false;
    std::chrono::steady_clock::time_point start_;
    std::thread thread_;
};

// --quiet: none; --json: json; else text.
FiguresFormat figures_format(bool quiet, bool json);

}  // namespace zbbridge
