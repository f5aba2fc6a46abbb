// Duplex channel names: a channel CH is the two buffers CH_request and CH_response.
#pragma once

#include "zerobuffer/export.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "zerobuffer/config.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer {

inline constexpr std::string_view kRequestSuffix = "_request";
inline constexpr std::string_view kResponseSuffix = "_response";
// 245 (longest buffer name) minus the 9 characters of "_response".
inline constexpr std::size_t kMaxChannelNameLength = protocol::kMaxNameLength - kResponseSuffix.size();
static_assert(kMaxChannelNameLength == 236);

// Any thread; no OS call. Throws InvalidNameException (naming the channel and its length) unless
// the channel name is 1..236 characters without '/' or NUL.
ZEROBUFFER_API void validate_channel_name(std::string_view channel);

// Any thread; no OS call; no check (validate_channel_name does that). Never throws except
// std::bad_alloc.
[[nodiscard]] ZEROBUFFER_API std::string request_buffer_name(std::string_view channel);   // CH + "_request"
[[nodiscard]] ZEROBUFFER_API std::string response_buffer_name(std::string_view channel);  // CH + "_response"

// The response buffer a client creates when nothing else is asked: 4096 B metadata / 256 MiB
// payload, as the Python, C# and old C++ clients use. Any thread; never throws.
[[nodiscard]] ZEROBUFFER_API BufferConfig default_response_config() noexcept;

}  // namespace zerobuffer
