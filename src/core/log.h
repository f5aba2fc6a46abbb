// Internal logging front end: formats with fmt only when the level is enabled.
#pragma once

#include <fmt/format.h>

#include "zerobuffer/log.h"

namespace zerobuffer::detail {

void log_emit(LogLevel level, std::string_view message);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (zerobuffer::log_enabled(level)) log_emit(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace zerobuffer::detail
