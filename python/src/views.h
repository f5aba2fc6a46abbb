// Tracking of the buffer exports of a region of shared memory (a frame being read, a frame
// buffer being written).
//
// An exporter (Frame, FrameBuffer) counts every Py_buffer it hands out (bf_getbuffer /
// bf_releasebuffer): memoryviews, numpy arrays, bytes(), anything that uses the buffer protocol.
// The memoryviews that the binding itself hands out (frame.data, get_frame_buffer) are also kept
// in a ViewList (weak references), because those it can invalidate: memoryview.release() makes
// every later access raise ValueError. Exports it did not hand out (a numpy array, a slice of a
// memoryview, memoryview(frame)) hold a raw pointer that nothing can revoke.
//
// So giving the memory back is all or nothing: it is allowed only when every export is one of
// the tracked memoryviews and none of them is shared (no slice of it, nothing exported from it).
// Then those memoryviews are released and the memory goes back. Otherwise the caller refuses
// (LiveViewsError) and nothing changes.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <vector>

namespace zbpy {

namespace nb = nanobind;

class ViewList {
public:
    // A new memoryview of `exporter` (which counts it as one export), tracked here.
    nb::object issue(nb::handle exporter);
    // The last memoryview issued, if it is still alive and not released; else an invalid object.
    nb::object cached() const;
    // True if `exports` (the exporter's count) consists only of tracked, unshared memoryviews,
    // so that release_all() brings it to zero.
    bool releasable(Py_ssize_t exports) const;
    // Releases every tracked memoryview that can be released (all of them after releasable()).
    void release_all() noexcept;
    bool empty() const noexcept { return refs_.empty(); }

private:
    std::vector<nb::object> refs_;  // weak references to memoryviews
};

// "1 buffer export" / "2 buffer exports", for messages.
const char* export_word(Py_ssize_t n) noexcept;

}  // namespace zbpy
