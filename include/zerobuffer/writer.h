// Writer: attaches to an existing buffer and writes frames into it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zerobuffer/config.h"
#include "zerobuffer/health.h"

namespace zerobuffer {

class FrameReservation;

// Thread safety: not thread-safe; use from one thread at a time (is_reader_connected and the
// counters may be called from any thread).
class Writer {
public:
    // Attaches to buffer NAME created by a reader (of any language).
    // Throws InvalidNameException, BufferNotFoundException, CorruptBufferException (not a v1
    // buffer or not initialised), ReaderDeadException (no live reader),
    // WriterAlreadyConnectedException (another live writer; its writer_pid is left untouched).
    explicit Writer(std::string name, const WriterOptions& options = {});
    ~Writer();
    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) noexcept;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Writes the metadata block once per buffer. Throws MetadataAlreadyWrittenException,
    // MetadataTooLargeException (8 + size > M). Does not block.
    void set_metadata(std::span<const std::byte> metadata);
    void set_metadata(const void* data, std::size_t size);

    // Copies one frame into the ring and publishes it; returns its sequence number. Blocks while
    // the ring is full, up to the write timeout. Throws InvalidFrameSizeException (size 0),
    // FrameTooLargeException (16 + size > S), BufferFullException (timeout, reader alive),
    // ReaderDeadException (reader closed or died), UsageException (a frame buffer is pending).
    std::uint64_t write_frame(std::span<const std::byte> data);
    std::uint64_t write_frame(const void* data, std::size_t size);

    // Zero-copy: reserves space for a frame of `size` bytes (blocking like write_frame) and
    // returns it for the caller to fill; commit_frame() publishes it. next_sequence() is the
    // sequence the committed frame will carry. abandon_frame() drops the reservation.
    std::span<std::byte> get_frame_buffer(std::size_t size);
    std::uint64_t commit_frame();
    void abandon_frame() noexcept;
    bool has_pending_frame() const noexcept;
    FrameReservation acquire_frame(std::size_t size);
    std::uint64_t next_sequence() const noexcept;

    void set_write_timeout(std::chrono::milliseconds timeout);  // > 0, else InvalidArgumentException
    std::chrono::milliseconds write_timeout() const noexcept;

    // True if the reader is attached and its process is alive. Does not block.
    bool is_reader_connected() const;
    bool metadata_written() const;

    std::uint64_t frames_written() const noexcept;
    std::uint64_t bytes_written() const noexcept;
    const std::string& name() const noexcept;
    BufferHealth health() const;

    // Detaches (writer_pid = 0). Never removes the buffer. Idempotent; the destructor calls it.
    void close() noexcept;
    bool is_open() const noexcept;

private:
    friend class FrameReservation;
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// A frame buffer reserved in the ring by Writer::acquire_frame. Move-only. commit() publishes
// it; destroying it without commit() abandons it (nothing is published, no sequence consumed).
class FrameReservation {
public:
    FrameReservation() noexcept = default;
    FrameReservation(FrameReservation&& other) noexcept;
    FrameReservation& operator=(FrameReservation&& other) noexcept;
    FrameReservation(const FrameReservation&) = delete;
    FrameReservation& operator=(const FrameReservation&) = delete;
    ~FrameReservation();

    std::span<std::byte> data() const noexcept { return data_; }
    std::uint64_t sequence() const noexcept { return sequence_; }
    bool valid() const noexcept { return writer_ != nullptr; }
    std::uint64_t commit();  // returns the sequence; throws UsageException if not valid

private:
    friend class Writer;
    FrameReservation(Writer::Impl* writer, std::span<std::byte> data, std::uint64_t sequence) noexcept
        : writer_(writer), data_(data), sequence_(sequence) {}
    Writer::Impl* writer_ = nullptr;
    std::span<std::byte> data_;
    std::uint64_t sequence_ = 0;
};

}  // namespace zerobuffer
