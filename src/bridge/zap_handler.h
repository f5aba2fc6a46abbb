// A ZAP handler (ZeroMQ's authentication protocol, RFC 27) for a CURVE receiver: it lets in the
// senders whose public keys are listed and refuses every other client. Serviced from the
// receiver's loop. Internal.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/zmq_handles.h"

namespace zerobuffer::bridge::detail {

class ZapHandler {
public:
    // Binds inproc://zeromq.zap.01 in `context` (before any CURVE socket of it accepts).
    // Throws InvalidArgumentException (a key that is not 40 Z85 characters), SystemError.
    ZapHandler(const Context& context, const std::vector<std::string>& allowed_keys, std::string who);
    [[nodiscard]] void* socket() const noexcept { return socket_.get(); }
    // Answers every pending request. Never blocks. Returns the number of clients refused.
    std::uint64_t service();

private:
    Socket socket_;
    std::vector<std::array<std::uint8_t, 32>> allowed_;
    std::string who_;
};

}  // namespace zerobuffer::bridge::detail
