// Atomic access to the OIEB. The struct keeps plain integers (protocol.h); every access from
// this library goes through this view, with the ordering each field needs and a note naming
// the operation on the other side that it pairs with. There is no way around it: the view does
// not hand out the raw pointer.
#pragma once

#include <atomic>
#include <cstdint>

#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

class OiebView {
public:
    explicit OiebView(protocol::Oieb* oieb = nullptr) noexcept : o_(oieb) {}
    bool valid() const noexcept { return o_ != nullptr; }

    // --- creation (reader) and validation (writer)
    // acquire: pairs with publish_oieb_size (release), the last store of a creating reader.
    std::uint32_t oieb_size() const noexcept { return ref(o_->oieb_size).load(std::memory_order_acquire); }
    // release: makes every field initialised before it visible to a writer that sees 128.
    void publish_oieb_size() noexcept { ref(o_->oieb_size).store(protocol::kOiebSize, std::memory_order_release); }
    // relaxed: written once before publish_oieb_size, read after oieb_size() (acquire).
    std::uint8_t version_major() const noexcept { return ref(o_->version.major).load(std::memory_order_relaxed); }
    std::uint64_t metadata_size() const noexcept { return ref(o_->metadata_size).load(std::memory_order_relaxed); }
    std::uint64_t payload_size() const noexcept { return ref(o_->payload_size).load(std::memory_order_relaxed); }

    // --- payload accounting: the only field both sides modify
    // acquire: pairs with the other side's RMW (release): space the reader returned is read out,
    // and a frame the writer took space for is completely written (ring_commit.h).
    std::uint64_t payload_free_bytes() const noexcept { return ref(o_->payload_free_bytes).load(std::memory_order_acquire); }
    // acq_rel: the reader returns space after it has finished reading the frames (release);
    // pairs with the writer's payload_free_bytes() / take_free.
    void return_free(std::uint64_t n) noexcept { ref(o_->payload_free_bytes).fetch_add(n, std::memory_order_acq_rel); }
    // acq_rel: the writer takes space for units it has completely written (release); pairs with
    // the reader's payload_free_bytes() in its full-ring test (core/ring_consume.h).
    void take_free(std::uint64_t n) noexcept { ref(o_->payload_free_bytes).fetch_sub(n, std::memory_order_acq_rel); }

    // --- positions and counters (one writing side each)
    // acquire: pairs with set_write_pos (release), stored after the units before it are written.
    std::uint64_t write_pos() const noexcept { return ref(o_->payload_write_pos).load(std::memory_order_acquire); }
    void set_write_pos(std::uint64_t v) noexcept { ref(o_->payload_write_pos).store(v, std::memory_order_release); }
    // release: published before the space of the units behind it returns (a Python writer
    // computes where to wrap from it); acquire for observers.
    std::uint64_t read_pos() const noexcept { return ref(o_->payload_read_pos).load(std::memory_order_acquire); }
    void set_read_pos(std::uint64_t v) noexcept { ref(o_->payload_read_pos).store(v, std::memory_order_release); }
    // acquire: pairs with set_written_count (release) after the frame header and data are stored.
    std::uint64_t written_count() const noexcept { return ref(o_->payload_written_count).load(std::memory_order_acquire); }
    void set_written_count(std::uint64_t v) noexcept { ref(o_->payload_written_count).store(v, std::memory_order_release); }
    // release/acquire: the reader's progress, for observers (health, CLI) and foreign writers.
    std::uint64_t read_count() const noexcept { return ref(o_->payload_read_count).load(std::memory_order_acquire); }
    void set_read_count(std::uint64_t v) noexcept { ref(o_->payload_read_count).store(v, std::memory_order_release); }

    // --- peers
    // acq_rel CAS: a PID is claimed from 0 (or from a dead peer) and cleared only by its owner,
    // so a live peer's PID is never clobbered; acquire loads pair with those CASes.
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
    // release: set before metadata_written, which publishes both.
    void set_metadata_free(std::uint64_t v) noexcept { ref(o_->metadata_free_bytes).store(v, std::memory_order_release); }

    // Fills a freshly created (zero) OIEB; oieb_size stays 0 until publish_oieb_size().
    void initialise(std::uint64_t metadata_size, std::uint64_t payload_size, std::uint64_t reader_pid) noexcept {
        ref(o_->version.major).store(protocol::kVersionMajor, std::memory_order_relaxed);
        ref(o_->version.minor).store(protocol::kVersionMinor, std::memory_order_relaxed);
        ref(o_->version.patch).store(protocol::kVersionPatch, std::memory_order_relaxed);
        ref(o_->version.reserved).store(0, std::memory_order_relaxed);
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

    // A field-by-field copy for reports (health, CLI). Each field is read atomically; the copy
    // as a whole is not a consistent snapshot of a buffer in use.
    protocol::Oieb snapshot() const noexcept {
        protocol::Oieb s{};
        s.oieb_size = oieb_size();
        s.version = {version_major(), ref(o_->version.minor).load(std::memory_order_relaxed),
                     ref(o_->version.patch).load(std::memory_order_relaxed),
                     ref(o_->version.reserved).load(std::memory_order_relaxed)};
        s.metadata_size = metadata_size();
        s.metadata_free_bytes = metadata_free_bytes();
        s.metadata_written_bytes = metadata_written_bytes();
        s.payload_size = payload_size();
        s.payload_free_bytes = payload_free_bytes();
        s.payload_write_pos = write_pos();
        s.payload_read_pos = read_pos();
        s.payload_written_count = written_count();
        s.payload_read_count = read_count();
        s.writer_pid = writer_pid();
        s.reader_pid = reader_pid();
        for (int i = 0; i < 4; ++i) s.reserved[i] = load_relaxed(o_->reserved[i]);
        return s;
    }

private:
    template <class T>
    static std::atomic_ref<T> ref(T& field) noexcept { return std::atomic_ref<T>(field); }
    static std::uint64_t load_relaxed(std::uint64_t& f) noexcept { return ref(f).load(std::memory_order_relaxed); }
    static void store_relaxed(std::uint64_t& f, std::uint64_t v) noexcept { ref(f).store(v, std::memory_order_relaxed); }

    protocol::Oieb* o_;
};

}  // namespace zerobuffer::detail
