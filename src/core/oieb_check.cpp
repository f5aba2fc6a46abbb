#include "core/oieb_check.h"

#include <fmt/format.h>

namespace zerobuffer::detail {
namespace {

bool all_zero(const protocol::Oieb& o) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&o);
    for (std::size_t i = 0; i < sizeof o; ++i) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

OiebVerdict fail(OiebStatus status, std::string problem) { return {status, std::move(problem)}; }

}  // namespace

OiebVerdict check_oieb(const protocol::Oieb& o, std::uint64_t file_size) {
    using namespace protocol;
    if (file_size == 0) return fail(OiebStatus::too_small, "the segment is empty (0 bytes)");
    if (file_size < kOiebSize) {
        return fail(OiebStatus::not_v1, fmt::format("the segment is {} bytes, smaller than the 128-byte OIEB", file_size));
    }
    if (o.oieb_size == 0 && all_zero(o)) {
        return fail(OiebStatus::not_initialised, "the OIEB is all zero (oieb_size 0): not initialised");
    }
    if (o.oieb_size != kOiebSize) {
        return fail(OiebStatus::not_v1, fmt::format("oieb_size is {}, expected 128", o.oieb_size));
    }
    if (o.version.major != kVersionMajor) {
        return fail(OiebStatus::not_v1, fmt::format("protocol version.major is {}, expected 1", o.version.major));
    }
    const std::uint64_t M = o.metadata_size;
    const std::uint64_t S = o.payload_size;
    if (M % kBlockAlignment != 0) return fail(OiebStatus::not_v1, fmt::format("metadata_size {} is not a multiple of 64", M));
    if (S == 0 || S % kBlockAlignment != 0) {
        return fail(OiebStatus::not_v1, fmt::format("payload_size {} is not a positive multiple of 64", S));
    }
    // Compare without overflow: each size alone must fit before their sum is formed.
    if (M > file_size || S > file_size || kOiebSize + M + S != file_size) {
        return fail(OiebStatus::not_v1, fmt::format("128 + metadata_size {} + payload_size {} does not equal the {}-byte segment",
                                                    M, S, file_size));
    }
    if (o.payload_write_pos > S) {
        return fail(OiebStatus::inconsistent, fmt::format("payload_write_pos {} is beyond payload_size {}", o.payload_write_pos, S));
    }
    if (o.payload_read_pos > S) {
        return fail(OiebStatus::inconsistent, fmt::format("payload_read_pos {} is beyond payload_size {}", o.payload_read_pos, S));
    }
    if (o.payload_free_bytes > S) {
        return fail(OiebStatus::inconsistent, fmt::format("payload_free_bytes {} is more than payload_size {}", o.payload_free_bytes, S));
    }
    if (o.metadata_written_bytes > M) {
        return fail(OiebStatus::inconsistent,
                    fmt::format("metadata_written_bytes {} is more than metadata_size {}", o.metadata_written_bytes, M));
    }
    return {};
}

}  // namespace zerobuffer::detail
