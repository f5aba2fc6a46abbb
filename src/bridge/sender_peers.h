// The receivers a Sender sends to. Each announced itself on its own connection (the receiver's
// DEALER sends an empty probe message, ZMQ_PROBE_ROUTER), so the sender knows every connection
// by its routing id and sends it the metadata before its first frame. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <zmq.h>

#include "bridge/stats.h"
#include "bridge/wire.h"

namespace zerobuffer::bridge::detail {

class PeerSet {
public:
    PeerSet(void* router, StatsCounters& stats, Backpressure policy, std::string who, const std::atomic<bool>& stop)
        : router_(router), stats_(stats), policy_(policy), who_(std::move(who)), stop_(stop) {}

    // A receiver announced itself: it gets the metadata before anything else.
    void add(std::span<const std::byte> routing_id);
    [[nodiscard]] bool empty() const noexcept { return peers_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return peers_.size(); }
    // Every peer gets the metadata again (it changed) before its next frame.
    void mark_metadata_stale() noexcept;

    // Sends the metadata to every peer that still needs it, then the frame (header + the
    // shared payload message, not consumed) to every peer. block: waits for each peer while it
    // is connected; drop: a peer that cannot take the frame now misses it (counted). Peers found
    // gone are removed. Returns how many peers got the frame.
    std::size_t send_frame(std::uint64_t stream, std::uint64_t sequence, const wire::HeaderBytes& header,
                           zmq_msg_t* payload, std::span<const std::byte> metadata);

    // Sends the metadata to every peer that needs it (on arrival, or after a change).
    void send_pending_metadata(std::span<const std::byte> metadata, std::uint64_t stream, std::uint64_t next_sequence);

private:
    struct Peer {
        std::vector<std::byte> id;
        bool needs_metadata = true;
        bool gone = false;
    };
    enum class Outcome { sent, full, gone, stopped };

    // Sends the routing-id part, waiting (block) or not (drop). Then the caller sends the rest.
    Outcome open_message(Peer& peer);
    bool send_metadata(Peer& peer, std::span<const std::byte> metadata, std::uint64_t stream, std::uint64_t next_sequence);
    void remove_gone();

    void* router_;
    StatsCounters& stats_;
    Backpressure policy_;
    std::string who_;
    const std::atomic<bool>& stop_;
    std::vector<Peer> peers_;
};

}  // namespace zerobuffer::bridge::detail
