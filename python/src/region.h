// FrameBuffer: the writable bytes of a frame being written (Writer.get_frame_buffer,
// DuplexClient.acquire_request_buffer), exported through the buffer protocol with every export
// counted. Committing or abandoning the frame first takes the memory back from Python: allowed
// only when the memoryviews handed out are the only exports (they are then released), refused
// with LiveViewsError otherwise (views.h).
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "views.h"

namespace zbpy {

namespace nb = nanobind;

struct RegionObj {
    RegionObj(std::shared_ptr<void> keepalive, std::span<std::byte> bytes, std::string what) noexcept;

    // LiveViewsError unless every export can be invalidated; then invalidates them. `action`
    // names the operation for the message ("commit the frame").
    void take_back(const char* action);
    // Invalidates what can be invalidated (the owner is going away; the keepalive keeps the
    // memory mapped for the remaining exports).
    void take_back_forced() noexcept;
    bool releasable() const { return views.releasable(exports); }

    std::shared_ptr<void> keepalive;  // the owner's core: its mapping outlives every export
    std::byte* data;
    std::size_t size;
    std::string what;
    Py_ssize_t exports = 0;
    bool valid = true;
    ViewList views;
};

// A new FrameBuffer over `bytes`, and the memoryview to hand out.
nb::object make_region(std::shared_ptr<void> keepalive, std::span<std::byte> bytes, std::string what);
nb::object region_view(nb::handle region);
RegionObj& region_of(nb::handle region);

}  // namespace zbpy
