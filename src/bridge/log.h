// The bridge logs through the library's public log sink (zerobuffer/log.h), formatting only when
// the level is on. Never on the per-frame path. Internal.
#pragma once

#include <fmt/format.h>

#include "zerobuffer/log.h"

namespace zerobuffer::bridge::detail {

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (log_enabled(level)) log_message(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace zerobuffer::bridge::detail
