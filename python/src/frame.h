// Frame: a received frame, zero-copy and read-only, exported through the buffer protocol with
// every export counted (views.h). Owned frames come from Reader.read_frame and
// DuplexClient.receive_response; borrowed frames are the requests a duplex server hands to a
// handler, valid during the call.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <cstdint>

#include <zerobuffer/frame.h>

#include "views.h"

namespace zbpy {

namespace nb = nanobind;

struct FrameObj {
    enum class State : unsigned char {
        live,      // readable
        pending,   // released for Python; the memory goes back when the last export goes
        released,  // given back
    };

    explicit FrameObj(zerobuffer::Frame&& frame) noexcept;
    explicit FrameObj(const zerobuffer::Frame& borrowed) noexcept;
    FrameObj(const FrameObj&) = delete;
    FrameObj& operator=(const FrameObj&) = delete;

    bool live() const noexcept { return state == State::live; }
    // ObjectClosedException unless live.
    void check_live() const;
    // Gives the frame back. With `may_refuse`, raises LiveViewsError (and changes nothing) while
    // an export that the frame cannot invalidate exists. Without it (a handler returned, an
    // exception is propagating out of a with block), the frame stops being readable through
    // this object at once and its memory goes back when the last export is released.
    void release(bool may_refuse);
    void on_export_released() noexcept;

    zerobuffer::Frame owned;
    const zerobuffer::Frame* borrowed = nullptr;  // the server's, during the handler call
    const std::byte* data = nullptr;
    std::size_t size = 0;
    std::uint64_t sequence = 0;
    Py_ssize_t exports = 0;
    State state = State::live;
    ViewList views;

private:
    void finish() noexcept;
};

// A new Python Frame owning `frame` (None for an invalid frame).
nb::object wrap_frame(zerobuffer::Frame&& frame);
// A new Python Frame borrowing `frame`; end_borrow() must be called before the borrow ends.
nb::object wrap_borrowed_frame(const zerobuffer::Frame& frame);
// The borrow ends: the frame is released (see FrameObj::release without refusing). If an export
// still points at it, the binding takes the frame over from the server (the server only releases
// its handle after the call, which is then a no-op), so the memory stays valid until the export
// is gone. Needs the GIL. Never throws.
void end_borrow(nb::handle frame) noexcept;

}  // namespace zbpy
