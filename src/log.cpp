#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

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
    std::mutex mutex;
    LogSink sink;
};

LogState& state() {
    static LogState s;
    return s;
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
    std::lock_guard lock(state().mutex);
    state().sink = std::move(sink);
}

void set_log_level(LogLevel level) { state().level.store(level, std::memory_order_relaxed); }

LogLevel log_level() noexcept { return state().level.load(std::memory_order_relaxed); }

namespace detail {

bool log_enabled(LogLevel level) noexcept { return level != LogLevel::off && level >= log_level(); }

void log_emit(LogLevel level, std::string_view message) {
    std::lock_guard lock(state().mutex);
    if (state().sink) {
        state().sink(level, message);
    } else {
        std::fprintf(stderr, "[zerobuffer %s] %.*s\n", to_string(level), static_cast<int>(message.size()),
                     message.data());
    }
}

}  // namespace detail
}  // namespace zerobuffer
