// zerobuffer_native._native: the extension module. The public Python API is assembled in
// zerobuffer_native/__init__.py from these types.
#include <chrono>
#include <thread>

#include "binding.h"
#include "nogil.h"

namespace {

// Waits (without the GIL) until no thread is inside a blocking call of the library, up to
// `timeout` seconds. The shutdown hook calls it after closing everything, so that no thread is
// still inside the library when the interpreter finalises.
bool wait_unblocked(double timeout) {
    const auto deadline = zbpy::Clock::now() + std::chrono::duration<double>(timeout);
    PyThreadState* state = PyEval_SaveThread();
    while (zbpy::g_blocked.load() > 0 && zbpy::Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    PyEval_RestoreThread(state);
    return zbpy::g_blocked.load() == 0;
}

}  // namespace

NB_MODULE(_native, m) {
    m.doc() = "zerobuffer C++ library bindings (internal; use the zerobuffer_native package)";
    zbpy::bind_errors(m);
    zbpy::bind_health(m);
    zbpy::bind_frame(m);
    zbpy::bind_region(m);
    zbpy::bind_reader(m);
    zbpy::bind_writer(m);
    zbpy::bind_handler_writer(m);
    zbpy::bind_duplex_client(m);
    zbpy::bind_duplex_server(m);
    // Topics (Publisher / Subscriber): the C++ API is being built on another branch. Its
    // bindings go here, as zbpy::bind_topics(m) in src/topics.cpp, once it has landed; the Python
    // side is zerobuffer_native/topics.py.
    m.def("_blocked_threads", [] { return zbpy::g_blocked.load(); });
    m.def("_wait_unblocked", &wait_unblocked, nb::arg("timeout"));
    m.attr("LIBRARY_VERSION") = nb::make_tuple(ZEROBUFFER_VERSION_MAJOR, ZEROBUFFER_VERSION_MINOR, ZEROBUFFER_VERSION_PATCH);
}
