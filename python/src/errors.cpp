// Exception translation. The Python classes live in zerobuffer_native/exceptions.py; the module
// hands them over with _register_exceptions() when it is imported, before anything can throw.
#include "errors.h"

#include <array>
#include <cstring>
#include <string_view>
#include <system_error>

#include <zerobuffer/zerobuffer.h>

#include "binding.h"

namespace zbpy {
namespace {

// Index = the registered names below.
enum Kind : int {
    kBase,
    kBufferNotFound,
    kReaderAlreadyConnected,
    kWriterAlreadyConnected,
    kReaderDead,
    kWriterDead,
    kBufferFull,
    kFrameTooLarge,
    kInvalidFrameSize,
    kMetadataAlreadyWritten,
    kMetadataTooLarge,
    kSequence,
    kInvalidName,
    kInvalidArgument,
    kCorrupt,
    kClosed,
    kUsage,
    kNameBlocked,
    kSystem,
    kDuplexTimeout,
    kLiveViews,
    kKinds
};

constexpr std::array<const char*, kKinds> kNames = {
    "ZeroBufferException",     "BufferNotFoundException",     "ReaderAlreadyConnectedException",
    "WriterAlreadyConnectedException", "ReaderDeadException", "WriterDeadException",
    "BufferFullException",     "FrameTooLargeException",      "InvalidFrameSizeException",
    "MetadataAlreadyWrittenException", "MetadataTooLargeException", "SequenceError",
    "InvalidNameException",    "InvalidArgumentException",    "CorruptBufferException",
    "ObjectClosedException",   "UsageException",              "NameBlockedException",
    "ZeroBufferOSError",       "DuplexTimeoutException",      "LiveViewsError",
};

// Strong references, deliberately never released (they live as long as the process).
std::array<PyObject*, kKinds> g_classes{};

Kind kind_of(const zerobuffer::ZeroBufferException& e) {
    if (dynamic_cast<const zerobuffer::DuplexTimeoutException*>(&e) != nullptr) return kDuplexTimeout;
    if (dynamic_cast<const zerobuffer::SystemError*>(&e) != nullptr) return kSystem;
    if (e.code().category() != zerobuffer::zerobuffer_category()) return kBase;
    using zerobuffer::errc;
    switch (static_cast<errc>(e.code().value())) {
        case errc::buffer_not_found: return kBufferNotFound;
        case errc::reader_already_connected: return kReaderAlreadyConnected;
        case errc::writer_already_connected: return kWriterAlreadyConnected;
        case errc::reader_dead: return kReaderDead;
        case errc::writer_dead: return kWriterDead;
        case errc::buffer_full: return kBufferFull;
        case errc::frame_too_large: return kFrameTooLarge;
        case errc::invalid_frame_size: return kInvalidFrameSize;
        case errc::metadata_already_written: return kMetadataAlreadyWritten;
        case errc::metadata_too_large: return kMetadataTooLarge;
        case errc::sequence_error: return kSequence;
        case errc::invalid_name: return kInvalidName;
        case errc::invalid_argument: return kInvalidArgument;
        case errc::corrupt_buffer: return kCorrupt;
        case errc::closed: return kClosed;
        case errc::usage_error: return kUsage;
        case errc::name_blocked: return kNameBlocked;
    }
    return kBase;
}

nb::object make(Kind kind, const char* message) {
    PyObject* cls = g_classes[kind];
    if (cls == nullptr) return nb::steal(PyObject_CallFunction(PyExc_RuntimeError, "s", message));
    return nb::steal(PyObject_CallFunction(cls, "s", message));
}

nb::object build(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (nb::python_error& e) {
        return nb::borrow(e.value());
    } catch (const zerobuffer::SequenceError& e) {
        PyObject* cls = g_classes[kSequence];
        if (cls == nullptr) return make(kBase, e.what());
        return nb::steal(PyObject_CallFunction(cls, "KKs", static_cast<unsigned long long>(e.expected()),
                                               static_cast<unsigned long long>(e.got()), e.what()));
    } catch (const zerobuffer::SystemError& e) {
        PyObject* cls = g_classes[kSystem];
        if (cls == nullptr) return make(kBase, e.what());
        return nb::steal(PyObject_CallFunction(cls, "is", e.code().value(), e.what()));
    } catch (const zerobuffer::ZeroBufferException& e) {
        return make(kind_of(e), e.what());
    } catch (const LiveViews& e) {
        return make(kLiveViews, e.what());
    } catch (const nb::builtin_exception& e) {
        // nanobind's own (TypeError, ValueError, ...): let nanobind's translator raise them.
        throw;
    } catch (const std::bad_alloc&) {
        return nb::steal(PyObject_CallNoArgs(PyExc_MemoryError));
    } catch (const std::exception& e) {
        return nb::steal(PyObject_CallFunction(PyExc_RuntimeError, "s", e.what()));
    } catch (...) {
        return nb::steal(PyObject_CallFunction(PyExc_RuntimeError, "s", "unknown C++ exception"));
    }
}

void set_from(const nb::object& exc) {
    if (!exc.is_valid()) return;  // the constructor itself failed: its error is already set
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

void register_exceptions(nb::handle module) {
    for (int k = 0; k < kKinds; ++k) {
        nb::object cls = module.attr(kNames[k]);
        if (!PyExceptionClass_Check(cls.ptr())) throw nb::type_error(kNames[k]);
        g_classes[k] = cls.release().ptr();
    }
}

}  // namespace

nb::object exception_object(const std::exception_ptr& error) {
    try {
        nb::object e = build(error);
        if (!e.is_valid()) {
            PyErr_Clear();
            return nb::steal(PyObject_CallFunction(PyExc_RuntimeError, "s", "exception could not be converted"));
        }
        return e;
    } catch (const nb::builtin_exception& e) {
        return nb::steal(PyObject_CallFunction(PyExc_RuntimeError, "s", e.what()));
    }
}

void set_python_error_from_current() noexcept {
    try {
        std::exception_ptr error = std::current_exception();
        try {
            std::rethrow_exception(error);
        } catch (nb::python_error& e) {
            e.restore();
            return;
        } catch (const nb::builtin_exception& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
            return;
        } catch (...) {
        }
        set_from(build(error));
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "exception could not be converted");
    }
}

nb::handle exception_class(const char* name) {
    for (int k = 0; k < kKinds; ++k) {
        if (std::strcmp(kNames[k], name) == 0 && g_classes[k] != nullptr) return g_classes[k];
    }
    return PyExc_RuntimeError;
}

void bind_errors(nb::module_& m) {
    m.def("_register_exceptions", &register_exceptions, nb::arg("module"),
          "Internal: hands the exception classes of zerobuffer_native.exceptions to the extension.");
    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const zerobuffer::ZeroBufferException&) {
            set_from(build(p));
        } catch (const LiveViews&) {
            set_from(build(p));
        }
        // anything else: rethrown to nanobind's default translators
    });
}

}  // namespace zbpy
