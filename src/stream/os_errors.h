// The boundary between the platform layer, which throws std::system_error, and the public API,
// whose errors all derive from ZeroBufferException: OS failures become SystemError naming the
// buffer. Exceptions of this library pass through unchanged.
#pragma once

#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {

template <class F>
decltype(auto) with_buffer_context(std::string_view name, F&& f) {
    try {
        return f();
    } catch (const std::system_error& e) {
        throw SystemError(fmt::format("buffer '{}': {}", name, e.what()), e.code());
    }
}

}  // namespace zerobuffer::detail
