// The FrameBuffer type: a writable region of a ring, valid until its frame is committed or
// abandoned.
#include "region.h"

#include <utility>

#include <fmt/format.h>
#include <zerobuffer/exceptions.h>

#include "binding.h"
#include "errors.h"

namespace zbpy {

RegionObj::RegionObj(std::shared_ptr<void> owner, std::span<std::byte> bytes, std::string description) noexcept
    : keepalive(std::move(owner)), data(bytes.data()), size(bytes.size()), what(std::move(description)) {}

void RegionObj::take_back(const char* action) {
    if (!valid) return;
    if (!views.releasable(exports)) {
        throw LiveViews(fmt::format(
            "cannot {}: the {} ({} bytes) still has {} {} that cannot be invalidated (a numpy array or a slice "
            "of the memoryview): delete them first. Nothing was done; the frame is still pending",
            action, what, size, exports, export_word(exports)));
    }
    views.release_all();
    valid = false;
}

void RegionObj::take_back_forced() noexcept {
    views.release_all();
    valid = false;
}

nb::object make_region(std::shared_ptr<void> keepalive, std::span<std::byte> bytes, std::string what) {
    nb::object object = nb::inst_alloc(nb::type<RegionObj>());
    new (nb::inst_ptr<RegionObj>(object)) RegionObj(std::move(keepalive), bytes, std::move(what));
    nb::inst_mark_ready(object);
    return object;
}

RegionObj& region_of(nb::handle region) { return *nb::inst_ptr<RegionObj>(region); }

nb::object region_view(nb::handle region) { return region_of(region).views.issue(region); }

namespace {

int region_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    RegionObj* r = nb::inst_ptr<RegionObj>(self);
    if (!r->valid) {
        try {
            throw zerobuffer::ObjectClosedException(
                fmt::format("the {} was committed or abandoned: it can no longer be written", r->what));
        } catch (...) {
            set_python_error_from_current();
        }
        view->obj = nullptr;
        return -1;
    }
    if (PyBuffer_FillInfo(view, self, r->data, static_cast<Py_ssize_t>(r->size), 0, flags) < 0) return -1;
    ++r->exports;
    return 0;
}

void region_releasebuffer(PyObject* self, Py_buffer*) { --nb::inst_ptr<RegionObj>(self)->exports; }

PyType_Slot region_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(region_getbuffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(region_releasebuffer)},
    {0, nullptr},
};

}  // namespace

void bind_region(nb::module_& m) {
    nb::class_<RegionObj>(m, "FrameBuffer", nb::type_slots(region_slots),
                          "The writable bytes of a frame being written, valid until it is committed or abandoned.")
        .def_prop_ro("size", [](const RegionObj& r) { return r.size; })
        .def_prop_ro("valid", [](const RegionObj& r) { return r.valid; })
        .def_prop_ro("exports", [](const RegionObj& r) { return r.exports; })
        .def("__len__", [](const RegionObj& r) { return r.size; })
        .def("__repr__", [](const RegionObj& r) {
            return fmt::format("FrameBuffer({}, size={}{})", r.what, r.size, r.valid ? "" : ", done");
        });
}

}  // namespace zbpy
