// Pluggable log sink. Off by default; ZEROBUFFER_LOG_LEVEL=trace|debug|info|warn|error enables
// the default sink (standard error). Nothing is logged on the per-frame path.
#pragma once

#include "zerobuffer/export.h"

#include <functional>
#include <string_view>

namespace zerobuffer {

enum class LogLevel { trace = 0, debug, info, warn, error, off };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

// Replaces the sink (nullptr restores the default standard-error sink). Thread-safe. The sink
// may be called from any thread, concurrently, and never under a lock of the library: it may
// log itself (that nested message goes to standard error). Exceptions it throws are ignored.
ZEROBUFFER_API void set_log_sink(LogSink sink);
ZEROBUFFER_API void set_log_level(LogLevel level);
ZEROBUFFER_API LogLevel log_level() noexcept;
ZEROBUFFER_API const char* to_string(LogLevel level) noexcept;

// True if a message of `level` would be emitted now. Any thread; never blocks.
[[nodiscard]] ZEROBUFFER_API bool log_enabled(LogLevel level) noexcept;
// Emits `message` through the sink if `level` is enabled: for components built on the library
// (the ZeroMQ bridge) that log through the same sink. Any thread; never throws.
ZEROBUFFER_API void log_message(LogLevel level, std::string_view message) noexcept;

}  // namespace zerobuffer
