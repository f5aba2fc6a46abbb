// Validation of an OIEB snapshot against the size of the file it came from, as a pure function.
// A writer validates before it maps the segment, the ownership module before it reclaims one,
// and the CLI before it reports one: a header written by a hostile process can never make any
// of them read or write outside the file.
#pragma once

#include <cstdint>
#include <string>

#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

enum class OiebStatus {
    valid,             // a ZeroBuffer v1 segment, every size consistent with the file
    too_small,         // empty: a creator between open and ftruncate (a shorter non-empty file is not_v1)
    not_initialised,   // oieb_size is still 0 and every other field too: a creator is (or was) filling it
    not_v1,            // oieb_size, version or sizes say this is not a ZeroBuffer v1 segment
    inconsistent,      // a v1 header whose runtime fields are out of range (corrupt)
};

struct OiebVerdict {
    OiebStatus status = OiebStatus::valid;
    std::string problem;  // empty when valid: what is wrong, naming the field and the numbers
};

// `oieb` is a copy of the file's first 128 bytes (meaningful only if file_size >= 128).
OiebVerdict check_oieb(const protocol::Oieb& oieb, std::uint64_t file_size);

}  // namespace zerobuffer::detail
