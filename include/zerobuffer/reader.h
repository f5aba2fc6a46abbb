// Reader: creates and owns a buffer, and reads frames from it.
#pragma once

#include "zerobuffer/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zerobuffer/config.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/health.h"

namespace zerobuffer {

// Threads: one thread at a time may call read_frame, try_read_frame, metadata and close (the
// reading thread). is_writer_connected, wait_for_writer, health and the counters may be called
// from any thread, also while another thread closes the Reader. Frames may be released from any
// thread, in any order, even after the Reader is gone.
//
// Space of released frames goes back to the writer in ring order: at once when the frame is
// released on another thread or when less than half the ring is free; otherwise (frames
// released on the reading thread while the ring is mostly free) in batches of up to 1/8 of the
// ring, and at the latest when a read finds nothing to read, at health() or at close().
class ZEROBUFFER_API Reader {
public:
    // Creates the buffer NAME: /dev/shm/NAME, semaphores sem-w-NAME and sem-r-NAME, lock file
    // /tmp/zerobuffer/NAME.lock. A stale buffer of that name (its reader dead or gone) is
    // reclaimed. Blocks up to 250 ms while the lock of a reader killed a moment ago drains.
    // Throws InvalidNameException, InvalidArgumentException (sizes, options, group),
    // ReaderAlreadyConnectedException (a live reader owns NAME; all of it is left intact),
    // NameBlockedException (an object that is not a usable buffer, or another user's, occupies
    // the name; the message names it and its owner), SystemError. On any throw nothing is left.
    explicit Reader(std::string name, const BufferConfig& config = {}, const ReaderOptions& options = {});
    ~Reader();  // close()
    Reader(Reader&&) noexcept;
    Reader& operator=(Reader&&) noexcept;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // The metadata the writer set, or an empty span until it has been written. Zero-copy: valid
    // while the Reader is open. Does not block. Throws CorruptBufferException if the metadata
    // header is invalid, ObjectClosedException.
    [[nodiscard]] std::span<const std::byte> metadata() const;

    // Waits up to `timeout` (>= 0; 0 only looks) for the next frame; an invalid Frame when none
    // came. Blocks: spins briefly, then sleeps on sem-w, checking the writer after each slice.
    // Frames written before the writer left are still returned; after that, throws
    // WriterDeadException once a writer that had connected has closed or died. Throws
    // SequenceError (if enabled; the frame is consumed first), CorruptBufferException,
    // InvalidArgumentException (timeout < 0), ObjectClosedException.
    [[nodiscard]] Frame read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // The next frame if one is there now, else an invalid Frame at once. Never blocks and makes
    // no syscall when nothing is there. Unlike read_frame, it does not check the writer's
    // liveness: poll is_writer_connected() when that matters. Same throws as read_frame.
    [[nodiscard]] Frame try_read_frame();

    // True if a writer is attached and alive. Does not block (a few syscalls).
    [[nodiscard]] bool is_writer_connected() const;
    // Polls is_writer_connected() every 5 ms until true or `timeout` (>= 0) passes. Blocks.
    [[nodiscard]] bool wait_for_writer(std::chrono::milliseconds timeout) const;

    std::uint64_t frames_read() const noexcept;
    std::uint64_t bytes_read() const noexcept;
    const std::string& name() const noexcept;
    const BufferConfig& config() const noexcept;
    // Any thread. Throws ObjectClosedException once closed.
    [[nodiscard]] BufferHealth health() const;

    // Marks the reader gone (reader_pid = 0), returns the space of released frames, and
    // removes the shared memory, semaphores and lock file. Frames still held stay readable.
    // Idempotent; never throws; the destructor calls it.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace zerobuffer
