// ViewList: weak references to the memoryviews the binding handed out. The checks read the
// memoryview's own export count and its managed buffer's view count (CPython's
// PyMemoryViewObject / _PyManagedBufferObject, in the non-limited API since 3.3).
#include "views.h"

#include <Python.h>

namespace zbpy {
namespace {

PyMemoryViewObject* as_view(PyObject* object) { return reinterpret_cast<PyMemoryViewObject*>(object); }

bool released(PyObject* view) { return (as_view(view)->flags & _Py_MEMORYVIEW_RELEASED) != 0; }

// The referent of a weak reference (a new reference), or an invalid object once it is gone.
nb::object target_of(const nb::object& ref) {
#if PY_VERSION_HEX >= 0x030D0000
    PyObject* object = nullptr;
    if (PyWeakref_GetRef(ref.ptr(), &object) < 0) PyErr_Clear();
    return nb::steal(object);
#else
    PyObject* object = PyWeakref_GetObject(ref.ptr());
    return object == Py_None ? nb::object() : nb::borrow(object);
#endif
}

}  // namespace

nb::object ViewList::issue(nb::handle exporter) {
    nb::object view = nb::steal(PyMemoryView_FromObject(exporter.ptr()));
    if (!view.is_valid()) throw nb::python_error();
    // Drop references to views that are gone, so that a long-lived exporter's list stays short.
    std::erase_if(refs_, [](const nb::object& ref) {
        nb::object v = target_of(ref);
        return !v.is_valid() || released(v.ptr());
    });
    nb::object ref = nb::steal(PyWeakref_NewRef(view.ptr(), nullptr));
    if (!ref.is_valid()) throw nb::python_error();
    refs_.push_back(std::move(ref));
    return view;
}

nb::object ViewList::cached() const {
    if (refs_.empty()) return {};
    nb::object v = target_of(refs_.back());
    if (!v.is_valid() || released(v.ptr())) return {};
    return v;
}

bool ViewList::releasable(Py_ssize_t exports) const {
    Py_ssize_t tracked = 0;
    for (const nb::object& ref : refs_) {
        nb::object v = target_of(ref);
        if (!v.is_valid() || released(v.ptr())) continue;
        PyMemoryViewObject* view = as_view(v.ptr());
        // Something exported from the view itself (np.frombuffer(view), memoryview(view)) or
        // a slice sharing its managed buffer keeps the exporter's export alive after release().
        if (view->exports != 0 || view->mbuf == nullptr || view->mbuf->exports != 1) return false;
        ++tracked;
    }
    return tracked == exports;
}

void ViewList::release_all() noexcept {
    for (const nb::object& ref : refs_) {
        nb::object v = target_of(ref);
        if (!v.is_valid() || released(v.ptr()) || as_view(v.ptr())->exports != 0) continue;
        PyObject* r = PyObject_CallMethod(v.ptr(), "release", nullptr);
        if (r == nullptr) {
            PyErr_Clear();
        } else {
            Py_DECREF(r);
        }
    }
    refs_.clear();
}

const char* export_word(Py_ssize_t n) noexcept { return n == 1 ? "buffer export" : "buffer exports"; }

}  // namespace zbpy
