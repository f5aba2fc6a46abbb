// Exceptions thrown by zerobuffer. Every one derives from ZeroBufferException, which is a
// std::runtime_error carrying a std::error_code: either one of zerobuffer::errc (category
// "zerobuffer") or, for operating-system failures (SystemError), the errno in
// std::system_category(). Messages name the buffer and the numbers involved. The platform layer
// underneath throws std::system_error; the library turns it into SystemError naming the buffer.
#pragma once

#include "zerobuffer/export.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace zerobuffer {

enum class errc {
    buffer_not_found = 1,
    reader_already_connected,
    writer_already_connected,
    reader_dead,
    writer_dead,
    buffer_full,
    frame_too_large,
    invalid_frame_size,
    metadata_already_written,
    metadata_too_large,
    sequence_error,
    invalid_name,
    invalid_argument,
    corrupt_buffer,
    closed,
    usage_error,
    name_blocked,
};

ZEROBUFFER_API const std::error_category& zerobuffer_category() noexcept;
ZEROBUFFER_API std::error_code make_error_code(errc e) noexcept;

class ZEROBUFFER_API ZeroBufferException : public std::runtime_error {
public:
    ZeroBufferException(const std::string& message, std::error_code code);
    explicit ZeroBufferException(const std::string& message);
    const std::error_code& code() const noexcept { return code_; }

private:
    std::error_code code_;
};

#define ZEROBUFFER_DECLARE_EXCEPTION(Name, base, code_value)                       \
    class ZEROBUFFER_API Name : public base {                                      \
    public:                                                                        \
        explicit Name(const std::string& message) : base(message, make_error_code(code_value)) {} \
    protected:                                                                     \
        Name(const std::string& message, std::error_code code) : base(message, code) {} \
    };

// The named buffer (shared memory or one of its semaphores) does not exist.
ZEROBUFFER_DECLARE_EXCEPTION(BufferNotFoundException, ZeroBufferException, errc::buffer_not_found)
// A live reader already owns the buffer name (its lock or its segment).
ZEROBUFFER_DECLARE_EXCEPTION(ReaderAlreadyConnectedException, ZeroBufferException, errc::reader_already_connected)
// A live writer is already attached to the buffer.
ZEROBUFFER_DECLARE_EXCEPTION(WriterAlreadyConnectedException, ZeroBufferException, errc::writer_already_connected)
// The reader closed (reader_pid == 0) or its process died.
ZEROBUFFER_DECLARE_EXCEPTION(ReaderDeadException, ZeroBufferException, errc::reader_dead)
// A writer that had connected closed or its process died, and no frame is left to read.
ZEROBUFFER_DECLARE_EXCEPTION(WriterDeadException, ZeroBufferException, errc::writer_dead)
// No space became free before the write timeout while the reader stayed alive.
ZEROBUFFER_DECLARE_EXCEPTION(BufferFullException, ZeroBufferException, errc::buffer_full)
// 16 + n exceeds the payload ring, or the frame can never be placed (see the message).
ZEROBUFFER_DECLARE_EXCEPTION(FrameTooLargeException, ZeroBufferException, errc::frame_too_large)
// A zero-length frame.
ZEROBUFFER_DECLARE_EXCEPTION(InvalidFrameSizeException, ZeroBufferException, errc::invalid_frame_size)
// Metadata is written once per buffer.
ZEROBUFFER_DECLARE_EXCEPTION(MetadataAlreadyWrittenException, ZeroBufferException, errc::metadata_already_written)
// 8 + L exceeds the metadata block.
ZEROBUFFER_DECLARE_EXCEPTION(MetadataTooLargeException, ZeroBufferException, errc::metadata_too_large)
// A name that is empty, contains '/', or is longer than protocol::kMaxNameLength.
ZEROBUFFER_DECLARE_EXCEPTION(InvalidNameException, ZeroBufferException, errc::invalid_name)
// A configuration value or argument out of range (sizes, timeouts).
ZEROBUFFER_DECLARE_EXCEPTION(InvalidArgumentException, ZeroBufferException, errc::invalid_argument)
// A shared-memory field or frame header holds a value the protocol does not allow. what() names it.
ZEROBUFFER_DECLARE_EXCEPTION(CorruptBufferException, ZeroBufferException, errc::corrupt_buffer)
// The object was closed (or moved from) and cannot be used any more.
ZEROBUFFER_DECLARE_EXCEPTION(ObjectClosedException, ZeroBufferException, errc::closed)
// A call made in the wrong state (commit without a pending frame buffer, and so on).
ZEROBUFFER_DECLARE_EXCEPTION(UsageException, ZeroBufferException, errc::usage_error)

// An operating-system call failed; code() is the errno in std::system_category().
class ZEROBUFFER_API SystemError : public ZeroBufferException {
public:
    SystemError(const std::string& message, std::error_code code) : ZeroBufferException(message, code) {}
};

// Another user's object, or an object that is not a ZeroBuffer v1 buffer, occupies the name;
// what() names the object, its owner and mode, and what to do about it.
class ZEROBUFFER_API NameBlockedException : public ZeroBufferException {
public:
    explicit NameBlockedException(const std::string& message);
};

#undef ZEROBUFFER_DECLARE_EXCEPTION

// A frame arrived with another sequence number than the reader expected.
class ZEROBUFFER_API SequenceError : public ZeroBufferException {
public:
    SequenceError(const std::string& buffer_name, std::uint64_t expected, std::uint64_t got);
    std::uint64_t expected() const noexcept { return expected_; }
    std::uint64_t got() const noexcept { return got_; }

private:
    std::uint64_t expected_;
    std::uint64_t got_;
};

}  // namespace zerobuffer

template <>
struct std::is_error_code_enum<zerobuffer::errc> : std::true_type {};
