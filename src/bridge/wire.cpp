#include "bridge/wire.h"

#include <cstring>

namespace zerobuffer::bridge::wire {
namespace {

void put_u64(std::byte* at, std::uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) at[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}

std::uint64_t get_u64(const std::byte* at) noexcept {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= std::uint64_t(std::to_integer<std::uint8_t>(at[i])) << (8 * i);
    return value;
}

}  // namespace

HeaderBytes encode(const Header& header) noexcept {
    HeaderBytes out{};
    std::memcpy(out.data(), kMagic.data(), kMagic.size());
    out[4] = std::byte{kVersion};
    out[5] = static_cast<std::byte>(header.kind);
    put_u64(out.data() + 8, header.stream);
    put_u64(out.data() + 16, header.sequence);
    put_u64(out.data() + 24, header.size);
    return out;
}

const char* to_string(Verdict verdict) noexcept {
    switch (verdict) {
        case Verdict::ok: return "ok";
        case Verdict::wrong_part_count: return "not a two-part message";
        case Verdict::wrong_header_size: return "header part is not 32 bytes";
        case Verdict::bad_magic: return "bad magic (not a zerobuffer bridge message)";
        case Verdict::unsupported_version: return "unsupported version";
        case Verdict::unknown_kind: return "unknown message kind";
        case Verdict::reserved_flags: return "reserved flags set";
        case Verdict::zero_stream: return "stream id 0";
        case Verdict::zero_sequence: return "frame with sequence 0";
        case Verdict::empty_frame: return "frame of 0 bytes";
        case Verdict::size_mismatch: return "header size differs from the payload part";
    }
    return "unknown";
}

Verdict decode(std::size_t parts, std::span<const std::byte> header, std::size_t payload_size, Header& out) noexcept {
    if (parts != 2) return Verdict::wrong_part_count;
    if (header.size() != kHeaderSize) return Verdict::wrong_header_size;
    if (std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) return Verdict::bad_magic;
    if (std::to_integer<std::uint8_t>(header[4]) != kVersion) return Verdict::unsupported_version;
    const auto kind = std::to_integer<std::uint8_t>(header[5]);
    if (kind != static_cast<std::uint8_t>(Kind::metadata) && kind != static_cast<std::uint8_t>(Kind::frame)) {
        return Verdict::unknown_kind;
    }
    if (header[6] != std::byte{0} || header[7] != std::byte{0}) return Verdict::reserved_flags;
    Header h;
    h.kind = static_cast<Kind>(kind);
    h.stream = get_u64(header.data() + 8);
    h.sequence = get_u64(header.data() + 16);
    h.size = get_u64(header.data() + 24);
    if (h.stream == 0) return Verdict::zero_stream;
    if (h.size != payload_size) return Verdict::size_mismatch;
    if (h.kind == Kind::frame) {
        if (h.sequence == 0) return Verdict::zero_sequence;
        if (h.size == 0) return Verdict::empty_frame;
    }
    out = h;
    return Verdict::ok;
}

}  // namespace zerobuffer::bridge::wire
