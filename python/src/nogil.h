// Blocking calls without the GIL. Every wait of the library runs with the GIL released, in
// slices of at most kSlice, so that other Python threads run meanwhile and a signal (Ctrl-C)
// reaches Python between two slices: PyErr_CheckSignals raises its exception (KeyboardInterrupt)
// out of the wait within one slice.
#pragma once

#include <nanobind/nanobind.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

namespace zbpy {

namespace nb = nanobind;
using Clock = std::chrono::steady_clock;
inline constexpr std::chrono::milliseconds kSlice{50};

// Threads inside a GIL-free section; the shutdown hook waits for them (module.cpp).
inline std::atomic<int> g_blocked{0};

inline bool interpreter_finalizing() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
}

// Runs f() without the GIL. Exceptions of f come out with the GIL held again. A daemon thread
// still blocked here when the interpreter finalises parks for good instead of taking the GIL
// (which would end the thread with a forced unwind through C++ frames).
template <class F>
auto without_gil(F&& f) -> decltype(f()) {
    using R = decltype(f());
    g_blocked.fetch_add(1, std::memory_order_relaxed);
    PyThreadState* state = PyEval_SaveThread();
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
    try {
        if constexpr (std::is_void_v<R>) {
            f();
            result.emplace(0);
        } else {
            result.emplace(f());
        }
    } catch (...) {
        error = std::current_exception();
    }
    g_blocked.fetch_sub(1, std::memory_order_relaxed);
    while (interpreter_finalizing()) std::this_thread::sleep_for(std::chrono::hours(1));
    PyEval_RestoreThread(state);
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) return std::move(*result);
}

// Raises the pending signal's exception (KeyboardInterrupt) if a handler failed. Needs the GIL.
inline void check_signals() {
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
}

// A wait of `timeout` (nullopt: for ever) cut into slices.
class SlicedWait {
public:
    explicit SlicedWait(std::optional<std::chrono::milliseconds> timeout)
        : forever_(!timeout), deadline_(Clock::now() + (timeout ? *timeout : std::chrono::milliseconds{0})) {}

    // The next slice: kSlice, or what is left of the timeout (0 once it has passed).
    std::chrono::milliseconds next() const {
        if (forever_) return kSlice;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
        return std::clamp(left, std::chrono::milliseconds{0}, kSlice);
    }
    bool expired() const { return !forever_ && Clock::now() >= deadline_; }

private:
    bool forever_;
    Clock::time_point deadline_;
};

}  // namespace zbpy

namespace zbpy {

// Runs f() holding `mutex`. Never waits for the mutex with the GIL held: if it is taken (another
// thread is inside a blocking call of the same object), the wait happens without the GIL.
template <class Mutex, class F>
auto with_lock(Mutex& mutex, F&& f) -> decltype(f()) {
    if (mutex.try_lock()) {
        std::lock_guard<Mutex> guard(mutex, std::adopt_lock);
        return f();
    }
    return without_gil([&]() -> decltype(f()) {
        std::lock_guard<Mutex> guard(mutex);
        return f();
    });
}

}  // namespace zbpy
