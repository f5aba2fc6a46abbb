#include "bridge/socket_setup.h"

#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::bridge::detail {
namespace {

int as_int_ms(std::chrono::milliseconds value) {
    return value.count() > 0x7fffffff ? 0x7fffffff : static_cast<int>(value.count());
}

void check_key(std::string_view key, std::string_view who, std::string_view what) {
    if (key.size() != 40) {
        throw InvalidArgumentException(fmt::format("{}: CURVE {} must be 40 Z85 characters (got {})", who, what, key.size()));
    }
}

}  // namespace

void apply_link_options(Socket& socket, const LinkOptions& link, Role role, std::string_view who) {
    const auto option = [&](std::string_view name) { return fmt::format("{}: setting {}", who, name); };
    socket.set(ZMQ_SNDHWM, link.send_high_water_mark, option("ZMQ_SNDHWM"));
    socket.set(ZMQ_RCVHWM, link.receive_high_water_mark, option("ZMQ_RCVHWM"));
    socket.set(ZMQ_HEARTBEAT_IVL, as_int_ms(link.heartbeat_interval), option("ZMQ_HEARTBEAT_IVL"));
    socket.set(ZMQ_HEARTBEAT_TIMEOUT, as_int_ms(link.heartbeat_timeout), option("ZMQ_HEARTBEAT_TIMEOUT"));
    // TTL travels in deciseconds and is capped by ZeroMQ at 6553.5 s.
    socket.set(ZMQ_HEARTBEAT_TTL, std::min(as_int_ms(link.heartbeat_timeout), 6553500), option("ZMQ_HEARTBEAT_TTL"));
    socket.set(ZMQ_RECONNECT_IVL, as_int_ms(link.reconnect_interval), option("ZMQ_RECONNECT_IVL"));
    socket.set(ZMQ_RECONNECT_IVL_MAX, as_int_ms(link.reconnect_interval_max), option("ZMQ_RECONNECT_IVL_MAX"));
    socket.set(ZMQ_LINGER, as_int_ms(link.linger), option("ZMQ_LINGER"));
    if (!link.curve) return;
    const CurveOptions& curve = *link.curve;
    if (!zmq_has("curve")) throw InvalidArgumentException(fmt::format("{}: this libzmq has no CURVE support", who));
    check_key(curve.own.public_key, who, "public key");
    check_key(curve.own.secret_key, who, "secret key");
    if (role == Role::receiver) {
        socket.set(ZMQ_CURVE_SERVER, 1, option("ZMQ_CURVE_SERVER"));
        socket.set(ZMQ_ZAP_DOMAIN, std::string_view("zerobuffer-bridge"), option("ZMQ_ZAP_DOMAIN"));
    } else {
        check_key(curve.server_public_key, who, "server (receiver) public key");
        socket.set(ZMQ_CURVE_SERVERKEY, curve.server_public_key, option("ZMQ_CURVE_SERVERKEY"));
    }
    socket.set(ZMQ_CURVE_PUBLICKEY, curve.own.public_key, option("ZMQ_CURVE_PUBLICKEY"));
    socket.set(ZMQ_CURVE_SECRETKEY, curve.own.secret_key, option("ZMQ_CURVE_SECRETKEY"));
}

void attach_endpoints(Socket& socket, const LinkOptions& link, std::string_view who) {
    for (const Endpoint& endpoint : link.endpoints) {
        const int rc = endpoint.bind ? zmq_bind(socket.get(), endpoint.address.c_str())
                                     : zmq_connect(socket.get(), endpoint.address.c_str());
        if (rc != 0) {
            throw_zmq_error(fmt::format("{}: cannot {} {}", who, endpoint.bind ? "bind" : "connect to", endpoint.address));
        }
    }
}

Monitor::Monitor(const Context& context, Socket& watched, std::string_view who) {
    static std::atomic<unsigned> counter{0};
    const std::string address = fmt::format("inproc://zerobuffer-bridge-monitor-{}", counter.fetch_add(1));
    const int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(watched.get(), address.c_str(), events) != 0) {
        throw_zmq_error(fmt::format("{}: zmq_socket_monitor", who));
    }
    pair_ = Socket(context, ZMQ_PAIR);
    if (zmq_connect(pair_.get(), address.c_str()) != 0) throw_zmq_error(fmt::format("{}: connecting the monitor", who));
}

void Monitor::drain(const std::function<void(const Event&)>& on_event) {
    for (;;) {
        Message head;
        if (zmq_msg_recv(head.get(), pair_.get(), ZMQ_DONTWAIT) < 0) return;
        Event event;
        const auto bytes = head.bytes();
        if (bytes.size() >= 6) {
            std::memcpy(&event.kind, bytes.data(), 2);
            std::memcpy(&event.value, bytes.data() + 2, 4);
        }
        if (head.more()) {
            Message address;
            if (zmq_msg_recv(address.get(), pair_.get(), 0) >= 0) {
                const auto text = address.bytes();
                event.endpoint.assign(reinterpret_cast<const char*>(text.data()), text.size());
            }
        }
        on_event(event);
    }
}

const char* describe_event(std::uint16_t kind) noexcept {
    switch (kind) {
        case ZMQ_EVENT_ACCEPTED: return "accepted a connection";
        case ZMQ_EVENT_CONNECTED: return "connected";
        case ZMQ_EVENT_DISCONNECTED: return "connection lost";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "handshake succeeded";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "handshake failed (connection closed or garbage)";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "handshake failed (protocol error: not a ZeroMQ peer?)";
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "handshake failed (authentication refused)";
        default: return "event";
    }
}

}  // namespace zerobuffer::bridge::detail
