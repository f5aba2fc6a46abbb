// Atomic access to the OIEB. The struct keeps plain integers (protocol.h); every access from
// this library goes through this view, with the ordering each field needs and a note naming
// the operation on the other side that it pairs with.
#pragma once

#include <atomic>
#include <cstdint>

#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

class OiebView {
public:
    explicit OiebView(protocol::Oieb* oieb) noexcept : o_(oieb) {}
    protocol::Oieb* raw() const noexcept { return o_; }

    // --- creation (reader) and validation (writer)
    // acquire: pairs with publish_oieb_size (release), the last store of a creating reader.
    std::uint32_t oieb_size() const noexcept { return ref(o_->oieb_size).load(std::memory_order_acquire); }
    // release: makes every field initialised before it visible to a writer that sees 128.
    void publish_oieb_size() noexcept { ref(o_->oieb_size).store(protocol::kOiebSize, std::memory_order_release); }
    std::uint8_t version_major() const noexcept { return std::atomic_ref<std::uint8_t>(o_->version.major).load(std::memory_order_relaxed); }
    // relaxed: written once before publish_oieb_size, read after oieb_size() (acquire).
    std::uint64_t metadata_size() const noexcept { return load_relaxed(o_->metadata_size); }
    std::uint64_t payload_size() const noexcept { return load_relaxed(o_->payload_size); }

    // --- payload accounting
    // acquire: pairs with the other side's fetch_add/fetch_sub (release), so data the reader
    // finished with (or the frame the writer published) is ordered before the space we see.
    std::uint64_t payload_free_bytes() const noexcept { return ref(o_->payload_free_bytes).load(std::memory_order_acquire); }
    // acq_rel RMW: reader returns space after it has finished reading the frame (release);
    // writer takes space (release of the frame bytes written before the publish).
    void add_free(std::uint64_t n) noexcept { ref(o_->payload_free_bytes).fetch_add(n, std::memory_order_acq_rel); }
    void sub_free(std::uint64_t n) noexcept { ref(o_->payload_free_bytes).fetch_sub(n, std::memory_order_acq_rel); }

    // --- positions and counters (one writing side each)
    // write side release pairs with the reader's acquire of written_count / write_pos.
    std::uint64_t write_pos() const noexcept { return ref(o_->payload_write_pos).load(std::memory_order_acquire); }
    void set_write_pos(std::uint64_t v) noexcept { ref(o_->payload_write_pos).store(v, std::memory_order_release); }
    std::uint64_t read_pos() const noexcept { return ref(o_->payload_read_pos).load(std::memory_order_acquire); }
    void set_read_pos(std::uint64_t v) noexcept { ref(o_->payload_read_pos).store(v, std::memory_order_release); }
    // acquire: pairs with set_written_count (release) after the frame header and data are stored.
    std::uint64_t written_count() const noexcept { return ref(o_->payload_written_count).load(std::memory_order_acquire); }
    void set_written_count(std::uint64_t v) noexcept { ref(o_->payload_written_count).store(v, std::memory_order_release); }
    std::uint64_t read_count() const noexcept { return ref(o_->payload_read_count).load(std::memory_order_acquire); }
    void set_read_count(std::uint64_t v) noexcept { ref(o_->payload_read_count).store(v, std::memory_order_release); }

    // --- peers
    // acquire/release: a PID is claimed or cleared with CAS so a live peer's PID is never clobbered.
    std::uint64_t writer_pid() const noexcept { return ref(o_->writer_pid).load(std::memory_order_acquire); }
    std::uint64_t reader_pid() const noexcept { return ref(o_->reader_pid).load(std::memory_order_acquire); }
    bool cas_writer_pid(std::uint64_t expected, std::uint64_t desired) noexcept {
        return ref(o_->writer_pid).compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
    }
    bool cas_reader_pid(std::uint64_t expected, std::uint64_t desired) noexcept {
        return ref(o_->reader_pid).compare_exchange_strong(expected, desired, std::memory_order_acq_rel);
    }

    // --- metadata
    // acquire: pairs with set_metadata_written (release) after the prefix and bytes are stored.
    std::uint64_t metadata_written_bytes() const noexcept { return ref(o_->metadata_written_bytes).load(std::memory_order_acquire); }
    void set_metadata_written(std::uint64_t v) noexcept { ref(o_->metadata_written_bytes).store(v, std::memory_order_release); }
    std::uint64_t metadata_free_bytes() const noexcept { return ref(o_->metadata_free_bytes).load(std::memory_order_acquire); }
    void set_metadata_free(std::uint64_t v) noexcept { ref(o_->metadata_free_bytes).store(v, std::memory_order_release); }

    // Fills a freshly created (zero) OIEB; oieb_size stays 0 until publish_oieb_size().
    void initialise(std::uint64_t metadata_size, std::uint64_t payload_size, std::uint64_t reader_pid) noexcept {
        o_->version = {protocol::kVersionMajor, protocol::kVersionMinor, protocol::kVersionPatch, 0};
        store_relaxed(o_->metadata_size, metadata_size);
        store_relaxed(o_->metadata_free_bytes, metadata_size);
        store_relaxed(o_->metadata_written_bytes, 0);
        store_relaxed(o_->payload_size, payload_size);
        store_relaxed(o_->payload_free_bytes, payload_size);
        store_relaxed(o_->payload_write_pos, 0);
        store_relaxed(o_->payload_read_pos, 0);
        store_relaxed(o_->payload_written_count, 0);
        store_relaxed(o_->payload_read_count, 0);
        store_relaxed(o_->writer_pid, 0);
        store_relaxed(o_->reader_pid, reader_pid);
    }

private:
    template <class T>
    static std::atomic_ref<T> ref(T& field) noexcept { return std::atomic_ref<T>(field); }
    static std::uint64_t load_relaxed(std::uint64_t& f) noexcept { return ref(f).load(std::memory_order_relaxed); }
    static void store_relaxed(std::uint64_t& f, std::uint64_t v) noexcept { ref(f).store(v, std::memory_order_relaxed); }

    protocol::Oieb* o_;
};

static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= alignof(protocol::Oieb));

}  // namespace zerobuffer::detail
