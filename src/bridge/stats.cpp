#include "bridge/stats.h"

#include <zmq.h>

#include "bridge/log.h"

namespace zerobuffer::bridge::detail {

BridgeStats StatsCounters::snapshot() const noexcept {
    BridgeStats s;
    s.frames = frames.get();
    s.bytes = bytes.get();
    s.dropped = dropped.get();
    s.gaps = gaps.get();
    s.gap_events = gap_events.get();
    s.connections = connections.get();
    s.reconnects = reconnects.get();
    s.disconnects = disconnects.get();
    s.peers = peers.get();
    s.metadata_sent = metadata_sent.get();
    s.metadata_received = metadata_received.get();
    s.rejected = rejected.get();
    s.oversized = oversized.get();
    s.handshake_failures = handshake_failures.get();
    s.streams = streams.get();
    s.local_peer_losses = local_peer_losses.get();
    s.local_attached = local_attached.load(std::memory_order_relaxed);
    return s;
}

void StatsCounters::on_link_event(const Monitor::Event& event, std::string_view who) {
    switch (event.kind) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            connections.add();
            if (connections.get() > 1) reconnects.add();
            log(LogLevel::info, "{}: {} ({})", who, describe_event(event.kind), event.endpoint);
            return;
        case ZMQ_EVENT_DISCONNECTED:
            disconnects.add();
            log(LogLevel::warn, "{}: {} ({})", who, describe_event(event.kind), event.endpoint);
            return;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            handshake_failures.add();
            log(LogLevel::warn, "{}: {} ({}, code {})", who, describe_event(event.kind), event.endpoint,
                                    event.value);
            return;
        default:
            log(LogLevel::debug, "{}: {} ({})", who, describe_event(event.kind), event.endpoint);
    }
}

}  // namespace zerobuffer::bridge::detail
