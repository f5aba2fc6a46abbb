// Builds Frames (whose constructor is private to the public header).
#pragma once

#include "zerobuffer/frame.h"

namespace zerobuffer::detail {

struct FrameAccess {
    static Frame make(ReleaseQueue* queue, ReleaseSlot* slot, const std::byte* data, std::size_t size,
                      std::uint64_t sequence) noexcept {
        return Frame(queue, slot, data, size, sequence);
    }
};

}  // namespace zerobuffer::detail
