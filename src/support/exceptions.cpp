#include "zerobuffer/exceptions.h"

#include <fmt/format.h>

namespace zerobuffer {
namespace {

class Category : public std::error_category {
public:
    const char* name() const noexcept override { return "zerobuffer"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::buffer_not_found: return "buffer not found";
            case errc::reader_already_connected: return "another reader is already connected";
            case errc::writer_already_connected: return "another writer is already connected";
            case errc::reader_dead: return "reader process is dead or gone";
            case errc::writer_dead: return "writer process is dead or gone";
            case errc::buffer_full: return "buffer is full";
            case errc::frame_too_large: return "frame size exceeds buffer capacity";
            case errc::invalid_frame_size: return "invalid frame size";
            case errc::metadata_already_written: return "metadata has already been written";
            case errc::metadata_too_large: return "metadata too large for buffer";
            case errc::sequence_error: return "unexpected frame sequence number";
            case errc::invalid_name: return "invalid name";
            case errc::invalid_argument: return "invalid argument";
            case errc::corrupt_buffer: return "corrupt shared memory";
            case errc::closed: return "object is closed";
            case errc::usage_error: return "call made in the wrong state";
            case errc::name_blocked: return "the name is blocked by an object that is not a usable buffer";
        }
        return "unknown zerobuffer error";
    }
};

}  // namespace

const std::error_category& zerobuffer_category() noexcept {
    static const Category category;
    return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), zerobuffer_category()}; }

ZeroBufferException::ZeroBufferException(const std::string& message, std::error_code code)
    : std::runtime_error(message), code_(code) {}

ZeroBufferException::ZeroBufferException(const std::string& message)
    : ZeroBufferException(message, std::error_code{}) {}

NameBlockedException::NameBlockedException(const std::string& message)
    : ZeroBufferException(message, make_error_code(errc::name_blocked)) {}

SequenceError::SequenceError(const std::string& buffer_name, std::uint64_t expected, std::uint64_t got)
    : ZeroBufferException(fmt::format("buffer '{}': sequence error: expected {}, got {}", buffer_name, expected, got),
                          make_error_code(errc::sequence_error)),
      expected_(expected),
      got_(got) {}

}  // namespace zerobuffer
