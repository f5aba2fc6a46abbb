// Turning LinkOptions into ZeroMQ socket options, binding and connecting with messages that name
// the endpoint, and the socket monitor that tells the bridge about connections. Internal.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bridge/zmq_handles.h"
#include "zerobuffer/bridge.h"

namespace zerobuffer::bridge::detail {

enum class Role { sender, receiver };

// High-water marks, heartbeats, reconnect intervals, linger and CURVE (the receiver is the CURVE
// server). Throws SystemError naming `who` and the option, InvalidArgumentException (CURVE keys).
void apply_link_options(Socket& socket, const LinkOptions& link, Role role, std::string_view who);

// Binds or connects every endpoint. Throws SystemError "<who>: cannot bind tcp://...: <reason>".
void attach_endpoints(Socket& socket, const LinkOptions& link, std::string_view who);

// Connection events of one socket, read without blocking.
class Monitor {
public:
    Monitor(const Context& context, Socket& watched, std::string_view who);  // throws SystemError
    [[nodiscard]] void* socket() const noexcept { return pair_.get(); }

    struct Event {
        std::uint16_t kind = 0;  // ZMQ_EVENT_*
        std::uint32_t value = 0; // errno or fd, as ZeroMQ gives it
        std::string endpoint;
    };
    // Reads every pending event and hands each to `on_event`. Never blocks.
    void drain(const std::function<void(const Event&)>& on_event);

private:
    Socket pair_;
};

// What a monitor event means for a bridge's counters and log.
const char* describe_event(std::uint16_t kind) noexcept;

}  // namespace zerobuffer::bridge::detail
