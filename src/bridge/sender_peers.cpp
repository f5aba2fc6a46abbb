#include "bridge/sender_peers.h"

#include <algorithm>
#include <cerrno>

#include "bridge/log.h"
#include "bridge/zmq_handles.h"

namespace zerobuffer::bridge::detail {

void PeerSet::add(std::span<const std::byte> routing_id) {
    peers_.push_back(Peer{std::vector<std::byte>(routing_id.begin(), routing_id.end()), true, false});
    stats_.peers.set(peers_.size());
    log(LogLevel::info, "{}: a receiver announced itself ({} now)", who_, peers_.size());
}

void PeerSet::mark_metadata_stale() noexcept {
    for (Peer& peer : peers_) peer.needs_metadata = true;
}

PeerSet::Outcome PeerSet::open_message(Peer& peer) {
    // block: ZMQ_SNDTIMEO (100 ms) bounds each wait, so that a stop is seen; drop: never wait.
    const int flags = ZMQ_SNDMORE | (policy_ == Backpressure::drop ? ZMQ_DONTWAIT : 0);
    for (;;) {
        if (send_bytes(router_, peer.id, flags, who_ + ": sending")) return Outcome::sent;
        if (zmq_errno() == EHOSTUNREACH) {
            peer.gone = true;
            return Outcome::gone;
        }
        if (policy_ == Backpressure::drop) return Outcome::full;
        if (stop_.load(std::memory_order_relaxed)) return Outcome::stopped;
    }
}

bool PeerSet::send_metadata(Peer& peer, std::span<const std::byte> metadata, std::uint64_t stream,
                            std::uint64_t next_sequence) {
    if (open_message(peer) != Outcome::sent) return false;
    const wire::HeaderBytes header = encode(wire::Header{wire::Kind::metadata, stream, next_sequence, metadata.size()});
    send_bytes(router_, header, ZMQ_SNDMORE, who_ + ": sending metadata");
    send_bytes(router_, metadata, 0, who_ + ": sending metadata");
    peer.needs_metadata = false;
    stats_.metadata_sent.add();
    return true;
}

void PeerSet::send_pending_metadata(std::span<const std::byte> metadata, std::uint64_t stream, std::uint64_t next_sequence) {
    for (Peer& peer : peers_) {
        if (peer.needs_metadata && !peer.gone) send_metadata(peer, metadata, stream, next_sequence);
    }
    remove_gone();
}

std::size_t PeerSet::send_frame(std::uint64_t stream, std::uint64_t sequence, const wire::HeaderBytes& header,
                                zmq_msg_t* payload, std::span<const std::byte> metadata) {
    std::size_t delivered = 0;
    for (Peer& peer : peers_) {
        if (peer.gone) continue;
        if (peer.needs_metadata && !send_metadata(peer, metadata, stream, sequence)) {
            if (!peer.gone && !stop_.load(std::memory_order_relaxed)) stats_.dropped.add();
            continue;
        }
        const Outcome outcome = open_message(peer);
        if (outcome == Outcome::full) stats_.dropped.add();
        if (outcome != Outcome::sent) continue;
        send_bytes(router_, header, ZMQ_SNDMORE, who_ + ": sending a frame header");
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, payload);  // shares the payload (reference counted), no copy of the bytes
        if (zmq_msg_send(&copy, router_, 0) < 0) {
            zmq_msg_close(&copy);
            throw_zmq_error(who_ + ": sending a frame");
        }
        ++delivered;
    }
    remove_gone();
    return delivered;
}

void PeerSet::remove_gone() {
    const auto before = peers_.size();
    std::erase_if(peers_, [](const Peer& peer) { return peer.gone; });
    if (peers_.size() != before) {
        stats_.peers.set(peers_.size());
        log(LogLevel::warn, "{}: {} receiver(s) gone ({} left)", who_, before - peers_.size(), peers_.size());
    }
}

}  // namespace zerobuffer::bridge::detail
