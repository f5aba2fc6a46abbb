// What Reader and Subscriber share: an object that owns its buffer and reads frames from it.
// ReadingObj<Source> wraps a zerobuffer::Reader or zerobuffer::Subscriber (both have
// try_read_frame, read_frame(timeout), metadata, health, frames_read, close, is_open);
// bind_reading() adds the methods of both to their Python classes. Blocking reads run without
// the GIL in slices (nogil.h); a frame already there is taken without giving up the GIL.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "binding.h"
#include "frame.h"
#include "nogil.h"

namespace zbpy {

// Waits in slices until wait_for(slice) is true or `timeout` (nullopt: for ever) passes;
// the GIL is released meanwhile and Ctrl-C checked between slices.
template <class WaitFor>
bool wait_sliced(std::optional<std::chrono::milliseconds> timeout, WaitFor&& wait_for) {
    SlicedWait wait(timeout);
    for (;;) {
        const std::chrono::milliseconds slice = wait.next();
        if (without_gil([&] { return wait_for(slice); })) return true;
        if (wait.expired()) return false;
        check_signals();
    }
}

template <class Source>
struct ReadingObj {
    template <class... Args>
    explicit ReadingObj(std::in_place_t, Args&&... args) {
        source = without_gil([&] { return std::make_unique<Source>(std::forward<Args>(args)...); });
    }

    template <class F>
    auto locked(F&& f) -> decltype(f(std::declval<Source&>())) {
        return with_lock(mutex, [&]() -> decltype(auto) { return f(*source); });
    }

    nb::object read_frame(nb::handle timeout_seconds) {
        using std::chrono::milliseconds;
        const std::optional<milliseconds> timeout = seconds_to_ms(timeout_seconds);
        if (timeout && timeout->count() < 0) return wrap_frame(locked([&](auto& s) { return s.read_frame(*timeout); }));
        if (mutex.try_lock()) {  // a frame already there: no GIL round trip
            std::lock_guard guard(mutex, std::adopt_lock);
            if (zerobuffer::Frame f = source->try_read_frame()) return wrap_frame(std::move(f));
        }
        SlicedWait wait(timeout);
        for (;;) {
            const milliseconds slice = wait.next();
            zerobuffer::Frame f = without_gil([&] {
                std::lock_guard guard(mutex);
                return source->read_frame(slice);
            });
            if (f) return wrap_frame(std::move(f));
            if (wait.expired()) return nb::none();
            check_signals();
        }
    }

    nb::object metadata() {
        // A snapshot copy: the metadata block is unmapped when the buffer closes, and a view of
        // it could outlive it.
        return locked([&](Source& s) -> nb::object {
            std::span<const std::byte> md = s.metadata();
            if (md.empty() && s.health().metadata_written_bytes == 0) return nb::none();
            nb::bytes copy(reinterpret_cast<const char*>(md.data()), md.size());
            return nb::steal(PyMemoryView_FromObject(copy.ptr()));
        });
    }

    void close() {
        without_gil([&] {
            std::lock_guard guard(mutex);
            source->close();
        });
    }

    std::unique_ptr<Source> source;
    std::mutex mutex;  // one C++ call at a time (the library's reading-thread rule)
};

// Frame.release() for a frame given to release_frame(); TypeError for anything else.
void release_frame(nb::handle frame);

// The methods Reader and Subscriber share, under the same names.
template <class Source>
void bind_reading(nb::class_<ReadingObj<Source>>& cls) {
    using namespace nb::literals;
    using Obj = ReadingObj<Source>;
    cls.def("read_frame", &Obj::read_frame, "timeout"_a.none() = 5.0,
            "The next frame, waiting up to `timeout` seconds (None: for ever); None on timeout.")
        .def("try_read_frame", [](Obj& self) {
            return wrap_frame(self.locked([](Source& s) { return s.try_read_frame(); }));
        })
        .def("release_frame", [](Obj&, nb::handle frame) { release_frame(frame); }, "frame"_a)
        .def("get_metadata", &Obj::metadata,
             "The metadata the writer set (a read-only memoryview of a copy), or None if none was written.")
        .def_prop_ro("frames_read", [](const Obj& self) { return self.source->frames_read(); })
        .def_prop_ro("is_open", [](const Obj& self) { return self.source->is_open(); })
        .def("health", [](const Obj& self) { return health_dict(self.source->health()); })
        .def("close", &Obj::close)
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](Obj& self, nb::handle, nb::handle, nb::handle) { self.close(); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none());
}

}  // namespace zbpy
