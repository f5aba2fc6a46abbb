// The counters behind BridgeStats: written by the bridge's thread, read from any thread (relaxed
// atomics; each field is exact, a snapshot is not taken atomically as a whole). Internal.
#pragma once

#include <atomic>
#include <cstdint>

#include "bridge/socket_setup.h"
#include "zerobuffer/bridge.h"

namespace zerobuffer::bridge::detail {

struct Counter {
    std::atomic<std::uint64_t> value{0};
    void add(std::uint64_t n = 1) noexcept { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void set(std::uint64_t n) noexcept { value.store(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

struct StatsCounters {
    Counter frames, bytes, dropped, gaps, gap_events, connections, reconnects, disconnects, peers;
    Counter metadata_sent, metadata_received, rejected, oversized, handshake_failures, streams, local_peer_losses;
    std::atomic<bool> local_attached{false};

    [[nodiscard]] BridgeStats snapshot() const noexcept;
    // Counts one socket-monitor event (connections, reconnects, disconnects, handshake failures)
    // and logs it under `who`.
    void on_link_event(const Monitor::Event& event, std::string_view who);
};

}  // namespace zerobuffer::bridge::detail
