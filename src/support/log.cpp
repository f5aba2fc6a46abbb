// The log front end: a level (off by default, ZEROBUFFER_LOG_LEVEL) and a replaceable sink.
// The user's sink is never called under a lock of ours: a sink that logs, or that blocks on
// something another logging thread holds, cannot deadlock the library.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "core/log.h"

namespace zerobuffer {
namespace {

LogLevel level_from_environment() noexcept {
    const char* value = std::getenv("ZEROBUFFER_LOG_LEVEL");
    if (value == nullptr) return LogLevel::off;
    const std::string v(value);
    for (int l = 0; l <= static_cast<int>(LogLevel::off); ++l) {
        if (v == to_string(static_cast<LogLevel>(l))) return static_cast<LogLevel>(l);
    }
    return LogLevel::off;
}

struct LogState {
    std::atomic<LogLevel> level{level_from_environment()};
    std::mutex mutex;                        // guards `sink` itself, never held during a call
    std::shared_ptr<const LogSink> sink;     // null: the standard-error sink
};

LogState& state() {
    static LogState s;
    return s;
}

void write_stderr(LogLevel level, std::string_view message) noexcept {
    std::fprintf(stderr, "[zerobuffer %s] %.*s\n", to_string(level), static_cast<int>(message.size()), message.data());
}

}  // namespace

const char* to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::trace: return "trace";
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
        case LogLevel::off: return "off";
    }
    return "off";
}

void set_log_sink(LogSink sink) {
    auto shared = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
    std::lock_guard lock(state().mutex);
    state().sink = std::move(shared);
}

void set_log_level(LogLevel level) { state().level.store(level, std::memory_order_relaxed); }

LogLevel log_level() noexcept { return state().level.load(std::memory_order_relaxed); }

bool log_enabled(LogLevel level) noexcept { return level != LogLevel::off && level >= log_level(); }

void log_message(LogLevel level, std::string_view message) noexcept {
    if (!log_enabled(level)) return;
    try {
        detail::log_emit(level, message);
    } catch (...) {
        // Logging never turns into an error of the caller.
    }
}

namespace detail {

void log_emit(LogLevel level, std::string_view message) {
    // A sink that logs from inside itself gets standard error for that nested message instead
    // of recursing for ever.
    thread_local bool in_sink = false;
    std::shared_ptr<const LogSink> sink;
    {
        std::lock_guard lock(state().mutex);
        sink = state().sink;
    }
    if (!sink || in_sink) {
        write_stderr(level, message);
        return;
    }
    in_sink = true;
    try {
        (*sink)(level, message);
    } catch (...) {
        // A throwing sink must not turn a log call into an error of the library.
    }
    in_sink = false;
}

}  // namespace detail
}  // namespace zerobuffer
