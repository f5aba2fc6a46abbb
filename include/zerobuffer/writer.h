// Writer: attaches to an existing buffer and writes frames into it.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <string>

#include "zerobuffer/config.h"
#include "zerobuffer/health.h"

namespace zerobuffer {

class FrameReservation;

// Threads: one thread at a time (the writing thread) uses the Writer and its reservations;
// is_reader_connected, health and the counters may be called from any thread, also while
// another thread closes the Writer.
class ZEROBUFFER_API Writer {
public:
    // Attaches to buffer NAME created by a reader (of any language). The header is checked with
    // a small read before the segment is mapped. Blocks only for the mapping. Throws
    // InvalidNameException, BufferNotFoundException, CorruptBufferException (not a v1 buffer or
    // not initialised yet), ReaderDeadException (no live reader), WriterAlreadyConnectedException
    // (another live writer; its writer_pid is left untouched), InvalidArgumentException (options;
    // another user's buffer with require_same_owner), SystemError (EACCES: not allowed to open).
    explicit Writer(std::string name, const WriterOptions& options = {});
    ~Writer();  // close()
    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) noexcept;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Writes the metadata block, once per buffer. Does not block. Throws
    // MetadataAlreadyWrittenException, MetadataTooLargeException (8 + size > M).
    void set_metadata(std::span<const std::byte> metadata);
    void set_metadata(const void* data, std::size_t size);

    // Copies one frame into the ring and publishes it; returns its sequence number. Blocks
    // while the ring is full, up to the write timeout. Throws InvalidFrameSizeException (size 0),
    // FrameTooLargeException (16 + size > S, or unplaceable towards a foreign reader),
    // BufferFullException (timeout, reader alive), ReaderDeadException (reader closed or died),
    // UsageException (a reservation is pending), ObjectClosedException.
    std::uint64_t write_frame(std::span<const std::byte> data);
    std::uint64_t write_frame(const void* data, std::size_t size);

    // Like write_frame, but waits at most `timeout` (>= 0; 0 does not wait) for space and
    // returns nullopt instead of throwing BufferFullException. Other errors throw as above.
    [[nodiscard]] std::optional<std::uint64_t> try_write_frame(std::span<const std::byte> data,
                                                               std::chrono::milliseconds timeout = {});

    // Zero-copy, the primary form: reserves space for a frame of `size` bytes (blocking and
    // throwing like write_frame) for the caller to fill; the reservation's commit() publishes
    // it, destroying it uncommitted publishes nothing and consumes no sequence number.
    [[nodiscard]] FrameReservation acquire_frame(std::size_t size);
    // Waits at most `timeout` (>= 0) for space; an invalid reservation if the ring stayed full.
    [[nodiscard]] FrameReservation try_acquire_frame(std::size_t size, std::chrono::milliseconds timeout = {});

    // Zero-copy in the Python and C# peers' naming, a thin form over acquire_frame kept for
    // code ported from them: get_frame_buffer reserves, commit_frame publishes (returns the
    // sequence; UsageException if nothing is pending), abandon_frame drops the reservation.
    [[nodiscard]] std::span<std::byte> get_frame_buffer(std::size_t size);
    std::uint64_t commit_frame();
    void abandon_frame() noexcept;
    [[nodiscard]] bool has_pending_frame() const noexcept;

    // The sequence the next published frame will carry.
    [[nodiscard]] std::uint64_t next_sequence() const noexcept;

    void set_write_timeout(std::chrono::milliseconds timeout);  // > 0, else InvalidArgumentException
    [[nodiscard]] std::chrono::milliseconds write_timeout() const noexcept;

    // True if the reader is attached and alive. Any thread; does not block.
    [[nodiscard]] bool is_reader_connected() const;
    [[nodiscard]] bool metadata_written() const;

    std::uint64_t frames_written() const noexcept;
    std::uint64_t bytes_written() const noexcept;
    const std::string& name() const noexcept;
    // Any thread. Throws ObjectClosedException once closed.
    [[nodiscard]] BufferHealth health() const;

    // Detaches (writer_pid = 0). Never removes the buffer. A pending reservation becomes
    // invalid. Idempotent; never throws; the destructor calls it.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept;

private:
    friend class FrameReservation;
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// A frame buffer reserved in the ring by Writer::acquire_frame. Move-only; use it on the
// writer's thread. Safe whatever outlives what: once its Writer is closed, moved into another
// object's place or destroyed, the reservation is invalid and commit() throws UsageException.
// At most one reservation of a Writer is pending at a time.
class ZEROBUFFER_API FrameReservation {
public:
    FrameReservation() noexcept = default;  // invalid
    FrameReservation(FrameReservation&& other) noexcept
        : writer_(std::exchange(other.writer_, nullptr)), active_(other.active_), data_(other.data_),
          sequence_(other.sequence_) {
        if (writer_ != nullptr) *active_ = this;  // the writer follows its pending reservation
    }
    FrameReservation& operator=(FrameReservation&& other) noexcept {
        if (this != &other) {
            abandon();
            writer_ = std::exchange(other.writer_, nullptr);
            active_ = other.active_;
            data_ = other.data_;
            sequence_ = other.sequence_;
            if (writer_ != nullptr) *active_ = this;
        }
        return *this;
    }
    FrameReservation(const FrameReservation&) = delete;
    FrameReservation& operator=(const FrameReservation&) = delete;
    ~FrameReservation() { abandon(); }

    // The bytes to fill; empty once invalid.
    [[nodiscard]] std::span<std::byte> data() const noexcept { return writer_ != nullptr ? data_ : std::span<std::byte>{}; }
    [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }
    [[nodiscard]] bool valid() const noexcept { return writer_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }
    // Publishes the frame; returns its sequence. Throws UsageException if not valid, and what
    // publishing throws (ReaderDeadException: the reader closed; the frame is dropped).
    std::uint64_t commit();
    // Drops it: nothing is published. Idempotent.
    void abandon() noexcept {
        if (writer_ != nullptr) abandon_pending();
    }

private:
    friend class Writer;
    void detach() noexcept { writer_ = nullptr; }
    void abandon_pending() noexcept;
    Writer::Impl* writer_ = nullptr;
    FrameReservation** active_ = nullptr;  // the writer's record of its pending reservation
    std::span<std::byte> data_;
    std::uint64_t sequence_ = 0;
};

}  // namespace zerobuffer
