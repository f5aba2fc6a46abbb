// Reader: creates and owns a buffer, and reads frames from it.
#pragma once

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

// Thread safety: one thread at a time may call read_frame / metadata / close; Frames may be
// released from any thread; is_writer_connected, health and the counters may be called from any thread.
class Reader {
public:
    // Creates the buffer NAME: /dev/shm/NAME, semaphores sem-w-NAME and sem-r-NAME, lock
    // /tmp/zerobuffer/NAME.lock. A stale buffer of that name (reader dead or gone) is reclaimed.
    // Throws InvalidNameException, InvalidArgumentException (sizes), ReaderAlreadyConnectedException
    // (a live reader owns NAME; its buffer is left intact), ZeroBufferException for OS failures.
    // On any throw nothing is left behind.
    explicit Reader(std::string name, const BufferConfig& config = {});
    ~Reader();
    Reader(Reader&&) noexcept;
    Reader& operator=(Reader&&) noexcept;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // The metadata the writer set, or an empty span until it has been written. Zero-copy: valid
    // while the Reader is open. Throws CorruptBufferException if the metadata header is invalid.
    std::span<const std::byte> metadata() const;

    // Waits up to `timeout` (> 0) for the next frame. Returns an invalid Frame on timeout.
    // Blocks (spins briefly, then sleeps on sem-w). Frames written before the writer left are
    // still returned; after that, throws WriterDeadException once a writer that had connected
    // has closed or died. Throws SequenceError (if enabled), CorruptBufferException,
    // InvalidArgumentException (timeout <= 0), ObjectClosedException.
    Frame read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // True if a writer is attached and its process is alive. Does not block.
    bool is_writer_connected() const;

    // Polls is_writer_connected() until true or `timeout` passes.
    bool wait_for_writer(std::chrono::milliseconds timeout) const;

    std::uint64_t frames_read() const noexcept;
    std::uint64_t bytes_read() const noexcept;
    const std::string& name() const noexcept;
    const BufferConfig& config() const noexcept;
    BufferHealth health() const;

    // Marks the reader gone (reader_pid = 0) and removes the shared memory, semaphores and lock
    // file. Frames still held stay readable. Idempotent; the destructor calls it.
    void close() noexcept;
    bool is_open() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace zerobuffer
