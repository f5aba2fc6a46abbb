// The Frame type: accessors, release rules and the read-only buffer protocol.
#include "frame.h"

#include <string>
#include <utility>

#include <fmt/format.h>

#include "binding.h"
#include "errors.h"

namespace zbpy {

using namespace nb::literals;

FrameObj::FrameObj(zerobuffer::Frame&& frame) noexcept
    : owned(std::move(frame)), data(owned.data().data()), size(owned.size()), sequence(owned.sequence()) {}

FrameObj::FrameObj(const zerobuffer::Frame& frame) noexcept
    : borrowed(&frame), data(frame.data().data()), size(frame.size()), sequence(frame.sequence()) {}

void FrameObj::check_live() const {
    if (state != State::live) {
        throw zerobuffer::ObjectClosedException(fmt::format(
            "frame with sequence {} ({} bytes) was released: its data can no longer be accessed", sequence, size));
    }
}

void FrameObj::finish() noexcept {
    owned.release();
    borrowed = nullptr;
    data = nullptr;
    state = State::released;
}

void FrameObj::release(bool may_refuse) {
    if (state != State::live) return;
    if (views.releasable(exports)) {
        views.release_all();  // every export is one of these: the count drops to zero
        if (exports == 0) {
            finish();
            return;
        }
    } else if (may_refuse) {
        throw LiveViews(fmt::format(
            "frame with sequence {} ({} bytes) still has {} {} that the frame cannot invalidate (a numpy array, "
            "a slice of frame.data, or a memoryview made from the frame): delete them, or copy what you need, "
            "before releasing it. Nothing was released: the frame stays held and readable",
            sequence, size, exports, export_word(exports)));
    } else {
        views.release_all();
        if (exports == 0) {
            finish();
            return;
        }
    }
    // Not refusable and still exported: keep the memory until the last export is released.
    if (borrowed != nullptr) {
        // The server owns a non-const Frame and releases it after the handler returns; taking it
        // over makes that release a no-op and ties the memory to the exports instead.
        owned = std::move(const_cast<zerobuffer::Frame&>(*borrowed));
        borrowed = nullptr;
    }
    state = State::pending;
}

void FrameObj::on_export_released() noexcept {
    if (--exports == 0 && state == State::pending) finish();
}

nb::object wrap_frame(zerobuffer::Frame&& frame) {
    if (!frame.valid()) return nb::none();
    nb::object object = nb::inst_alloc(nb::type<FrameObj>());
    new (nb::inst_ptr<FrameObj>(object)) FrameObj(std::move(frame));
    nb::inst_mark_ready(object);
    return object;
}

nb::object wrap_borrowed_frame(const zerobuffer::Frame& frame) {
    nb::object object = nb::inst_alloc(nb::type<FrameObj>());
    new (nb::inst_ptr<FrameObj>(object)) FrameObj(frame);
    nb::inst_mark_ready(object);
    return object;
}

void end_borrow(nb::handle frame) noexcept {
    FrameObj* f = nb::inst_ptr<FrameObj>(frame);
    try {
        f->release(false);
    } catch (...) {
    }
    if (f->borrowed != nullptr) {  // released by the handler while live: nothing to give back
        f->borrowed = nullptr;
        f->data = nullptr;
        f->state = FrameObj::State::released;
    }
}

namespace {

int frame_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    FrameObj* f = nb::inst_ptr<FrameObj>(self);
    try {
        f->check_live();
    } catch (...) {
        set_python_error_from_current();
        view->obj = nullptr;
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "a received frame is read-only");
        view->obj = nullptr;
        return -1;
    }
    if (PyBuffer_FillInfo(view, self, const_cast<std::byte*>(f->data), static_cast<Py_ssize_t>(f->size), 1, flags) < 0)
        return -1;
    ++f->exports;
    return 0;
}

void frame_releasebuffer(PyObject* self, Py_buffer*) { nb::inst_ptr<FrameObj>(self)->on_export_released(); }

PyType_Slot frame_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(frame_getbuffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(frame_releasebuffer)},
    {0, nullptr},
};

nb::object frame_data(nb::handle self) {
    FrameObj& f = nb::cast<FrameObj&>(self);
    f.check_live();
    nb::object cached = f.views.cached();
    return cached.is_valid() ? cached : f.views.issue(self);
}

nb::object as_numpy(nb::handle self, nb::handle dtype, nb::handle shape, Py_ssize_t offset) {
    FrameObj& f = nb::cast<FrameObj&>(self);
    f.check_live();
    nb::module_ np = nb::module_::import_("numpy");
    nb::object type = np.attr("dtype")(dtype.is_none() ? nb::str("uint8") : nb::borrow(dtype));
    Py_ssize_t count = -1;
    if (!shape.is_none()) count = nb::cast<Py_ssize_t>(np.attr("prod")(shape, "dtype"_a = "int64"));
    nb::object array = np.attr("frombuffer")(self, "dtype"_a = type, "count"_a = count, "offset"_a = offset);
    return shape.is_none() ? array : array.attr("reshape")(shape);
}

}  // namespace

void bind_frame(nb::module_& m) {
    nb::class_<FrameObj>(m, "Frame", nb::type_slots(frame_slots), nb::is_weak_referenceable(),
                         "A received frame: a zero-copy, read-only view of its bytes in shared memory.")
        .def_prop_ro("data", &frame_data, "Read-only memoryview of the frame's bytes (zero-copy; invalidated on release).")
        .def_prop_ro("size", [](const FrameObj& f) { return f.size; })
        .def_prop_ro("sequence", [](const FrameObj& f) { return f.sequence; })
        .def_prop_ro("is_valid", [](const FrameObj& f) { return f.live(); })
        .def_prop_ro("released", [](const FrameObj& f) { return !f.live(); })
        .def_prop_ro("exports", [](const FrameObj& f) { return f.exports; },
                     "Buffer exports alive now (memoryviews, numpy arrays).")
        .def("__len__", [](const FrameObj& f) { return f.size; })
        .def("__bytes__", [](const FrameObj& f) {
            f.check_live();
            return nb::bytes(reinterpret_cast<const char*>(f.data), f.size);
        })
        .def("tobytes", [](const FrameObj& f) {
            f.check_live();
            return nb::bytes(reinterpret_cast<const char*>(f.data), f.size);
        })
        .def("as_numpy", &as_numpy, "dtype"_a = nb::none(), "shape"_a = nb::none(), "offset"_a = 0,
             "Zero-copy read-only numpy array of the frame's bytes; it keeps the frame held while it exists.")
        .def("release", [](FrameObj& f) { f.release(true); },
             "Gives the frame's space back to the writer. Raises LiveViewsError while a numpy array or a "
             "memoryview it did not hand out still points into it. Idempotent.")
        .def("dispose", [](FrameObj& f) { f.release(true); })
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](FrameObj& f, nb::handle type, nb::handle, nb::handle) { f.release(type.is_none()); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none())
        .def("__repr__", [](const FrameObj& f) {
            return fmt::format("Frame(sequence={}, size={}{})", f.sequence, f.size, f.live() ? "" : ", released");
        });
}

}  // namespace zbpy
