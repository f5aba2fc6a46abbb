// Topics: Publisher, PublishLoan and Subscriber (zerobuffer/topic.h; zerobuffer_native/topics.py
// wraps them).
//
// Publishing calls (publish, acquire_frame, a loan's commit) keep the GIL for frames up to
// kInlineCopy bytes and give it up at once for larger ones. Under the block policy a call that
// must wait for a full subscriber gives it up at its first wait: the library calls
// PublisherOptions::on_wait before that wait and about every 50 ms during it, and the hook here
// releases the GIL the first time, and later takes it back briefly to check for Ctrl-C and for a
// close() from another thread; what it raises ends the call (topic.h says how).
//
// A loan's bytes are a FrameBuffer (region.h) whose owner is the loan's state, which holds the
// publisher's core: no memoryview or numpy array can outlive the mapping, and a loan whose
// views cannot be revoked stays pending (and its publisher open) until they are gone.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <nanobind/stl/optional.h>

#include "binding.h"
#include "errors.h"
#include "reading.h"
#include "region.h"

namespace zbpy {
namespace {

using namespace nb::literals;
using std::chrono::milliseconds;

struct PublisherCore {
    ~PublisherCore() {
        if (!publisher || !publisher->is_open()) return;
        // Closing joins the discovery thread, which may be waiting for the GIL (a callback).
        if (PyGILState_Check() != 0 && !interpreter_finalizing()) {
            without_gil([&] { publisher->close(); });
        } else {
            publisher->close();
        }
    }

    template <class F>
    auto call(std::size_t size, F&& f) -> decltype(f(std::declval<zerobuffer::Publisher&>()));

    nb::object on_change;             // None or callable(dict); used with the GIL
    std::atomic<bool> closing{false};  // close() wants the mutex: a waiting publish ends
    std::mutex mutex;                  // one publishing call at a time (the library's rule)
    std::optional<zerobuffer::Publisher> publisher;
    RegionObj* loan_region = nullptr;  // the pending loan's bytes (with the GIL)
};

// One publishing call on this thread, and the GIL it has or has given up (see the top).
class PublishCall {
public:
    PublishCall(PublisherCore& core, std::size_t size) : core_(core), outer_(t_current) {
        if (size > kInlineCopy) gil_.release();
        t_current = this;
    }
    ~PublishCall() { t_current = outer_; }  // then gil_ takes the GIL back
    PublishCall(const PublishCall&) = delete;
    PublishCall& operator=(const PublishCall&) = delete;

    // True if this thread is inside a call of `core` (a signal handler or a finaliser run by the
    // hook's signal check): the mutex is this thread's own.
    static bool inside(const PublisherCore& core) {
        for (const PublishCall* c = t_current; c != nullptr; c = c->outer_) {
            if (&c->core_ == &core) return true;
        }
        return false;
    }

    // PublisherOptions::on_wait, on the publishing thread.
    static void on_wait() {
        PublishCall* self = t_current;
        if (self == nullptr) return;
        self->gil_.restore();
        try {
            check_signals();
            if (self->core_.closing.load()) {
                throw zerobuffer::ObjectClosedException(fmt::format(
                    "publisher of topic '{}' was closed while waiting for a full subscriber", self->core_.publisher->topic()));
            }
        } catch (...) {
            self->gil_.release();
            throw;
        }
        self->gil_.release();
    }

private:
    PublisherCore& core_;
    PublishCall* outer_;
    GilRelease gil_;
    static inline thread_local PublishCall* t_current = nullptr;
};

template <class F>
auto PublisherCore::call(std::size_t size, F&& f) -> decltype(f(std::declval<zerobuffer::Publisher&>())) {
    if (PublishCall::inside(*this)) {
        throw zerobuffer::UsageException(fmt::format(
            "topic '{}': publisher used from code run inside one of its own calls (a signal handler?)", publisher->topic()));
    }
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock.owns_lock()) without_gil([&] { lock.lock(); });
    PublishCall scope(*this, size);
    return f(*publisher);
}

nb::dict info_dict(const zerobuffer::SubscriberInfo& info) {
    nb::dict d;
    d["buffer_name"] = info.buffer_name;
    d["id"] = info.id;
    d["state"] = zerobuffer::to_string(info.state);
    d["frames_delivered"] = info.frames_delivered;
    d["frames_dropped"] = info.frames_dropped;
    d["reader_pid"] = info.reader_pid;
    d["reason"] = info.reason;
    return d;
}

// on_subscriber_change, on the publisher's discovery thread.
void notify(PublisherCore* core, const zerobuffer::SubscriberInfo& info) {
    if (interpreter_finalizing()) return;
    nb::gil_scoped_acquire gil;
    nb::object callback = core->on_change;  // tp_clear may reset it meanwhile
    if (!callback.is_valid() || callback.is_none()) return;
    try {
        callback(info_dict(info));
    } catch (nb::python_error& e) {
        e.discard_as_unraisable("zerobuffer_native topic on_subscriber_change callback");
    }
}

zerobuffer::SlowSubscriberPolicy policy_from(const std::string& topic, const std::string& policy) {
    if (policy == "block") return zerobuffer::SlowSubscriberPolicy::block;
    if (policy == "drop") return zerobuffer::SlowSubscriberPolicy::drop;
    throw zerobuffer::InvalidArgumentException(
        fmt::format("topic '{}': slow-subscriber policy '{}' is neither 'block' nor 'drop'", topic, policy));
}

// What a pending loan's views keep alive: abandoned (if still pending) when the last goes.
struct LoanState {
    explicit LoanState(std::shared_ptr<PublisherCore> c) : core(std::move(c)) {}
    LoanState(const LoanState&) = delete;
    LoanState& operator=(const LoanState&) = delete;
    ~LoanState() {
        if (core->loan_region == region) core->loan_region = nullptr;
        // Inside a call of the publisher on this thread no other loan can be pending.
        if (PublishCall::inside(*core)) return;
        try {
            with_lock(core->mutex, [&] { loan.abandon(); });
        } catch (...) {
        }
    }
    std::shared_ptr<PublisherCore> core;
    zerobuffer::PublishLoan loan;
    RegionObj* region = nullptr;
};

struct LoanObj {
    RegionObj& bytes() const { return region_of(region); }

    std::size_t commit() {
        if (bytes().valid) {
            bytes().take_back("commit the loan");
            forget();
        }
        // An invalid loan: the library's UsageException says why.
        return state->core->call(bytes().size, [&](zerobuffer::Publisher&) { return state->loan.commit(); });
    }

    void abandon() {
        if (bytes().valid) {
            bytes().take_back("abandon the loan");
            forget();
        }
        with_lock(state->core->mutex, [&] { state->loan.abandon(); });
    }

    void exit(bool ok) {
        if (ok) {
            commit();
        } else if (bytes().valid && bytes().releasable()) {  // else pending until the views go
            bytes().take_back_forced();
            forget();
            with_lock(state->core->mutex, [&] { state->loan.abandon(); });
        }
    }

    void forget() const {
        if (state->core->loan_region == state->region) state->core->loan_region = nullptr;
    }

    std::shared_ptr<LoanState> state;
    nb::object region;
};

struct PublisherObj {
    PublisherObj(std::string topic, const std::string& policy, nb::handle write_timeout, nb::handle rescan_interval,
                 bool use_inotify, bool prefault, nb::handle on_subscriber_change)
        : core(std::make_shared<PublisherCore>()) {
        zerobuffer::PublisherOptions o;
        o.policy = policy_from(topic, policy);
        o.write_timeout = duration_to_ms(write_timeout);
        o.rescan_interval = duration_to_ms(rescan_interval);
        o.use_inotify = use_inotify;
        o.prefault = prefault;
        o.on_wait = [] { PublishCall::on_wait(); };
        core->on_change = nb::borrow(on_subscriber_change);
        if (!on_subscriber_change.is_none()) {
            PublisherCore* c = core.get();
            o.on_subscriber_change = [c](const zerobuffer::SubscriberInfo& info) { notify(c, info); };
        }
        without_gil([&] { core->publisher.emplace(std::move(topic), std::move(o)); });
    }

    zerobuffer::Publisher& pub() const { return *core->publisher; }

    std::size_t publish(nb::handle data) {
        BytesArg arg(data);
        return core->call(arg.span().size(), [&](zerobuffer::Publisher& p) { return p.publish(arg.span()); });
    }

    LoanObj acquire_frame(std::size_t size) {
        auto state = std::make_shared<LoanState>(core);
        core->call(size, [&](zerobuffer::Publisher& p) { state->loan = p.acquire_frame(size); });
        nb::object region = make_region(state, state->loan.data(),
                                        fmt::format("loan of {} bytes of topic '{}'", size, pub().topic()));
        state->region = &region_of(region);
        core->loan_region = state->region;
        return LoanObj{std::move(state), std::move(region)};
    }

    void close(bool may_refuse) {
        if (RegionObj* r = core->loan_region; r != nullptr && r->valid) {
            if (may_refuse) {
                r->take_back("close the publisher");
            } else if (!r->releasable()) {
                return;  // stays open until the loan's views are gone and the publisher is collected
            } else {
                r->take_back_forced();
            }
            core->loan_region = nullptr;
        }
        core->closing = true;
        without_gil([&] {
            std::lock_guard guard(core->mutex);
            core->publisher->close();
        });
    }

    std::shared_ptr<PublisherCore> core;
};

// The cyclic GC sees the callback (which may refer to the publisher).
int publisher_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    if (!nb::inst_ready(self)) return 0;
    const PublisherObj* p = nb::inst_ptr<PublisherObj>(self);
    if (p->core) Py_VISIT(p->core->on_change.ptr());
    return 0;
}

int publisher_clear(PyObject* self) {
    PublisherObj* p = nb::inst_ptr<PublisherObj>(self);
    if (p->core) p->core->on_change = nb::none();
    return 0;
}

PyType_Slot publisher_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(publisher_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(publisher_clear)},
    {0, nullptr},
};

using SubscriberObj = ReadingObj<zerobuffer::Subscriber>;

void bind_publisher(nb::module_& m) {
    nb::class_<PublisherObj>(m, "Publisher", nb::type_slots(publisher_slots), nb::is_weak_referenceable(),
                             "The publishing side of a topic: finds the subscriber buffers TOPIC@ID and writes "
                             "every frame into each.")
        .def(nb::init<std::string, const std::string&, nb::handle, nb::handle, bool, bool, nb::handle>(), "topic"_a,
             nb::kw_only(), "policy"_a = "block", "write_timeout"_a = 5.0, "rescan_interval"_a = 1.0,
             "use_inotify"_a = true, "prefault"_a = true, "on_subscriber_change"_a.none() = nb::none())
        .def("set_metadata", [](PublisherObj& self, nb::handle data) {
            BytesArg arg(data);
            with_lock(self.core->mutex, [&] { self.pub().set_metadata(arg.span()); });
        }, "data"_a)
        .def("publish", &PublisherObj::publish, "data"_a,
             "Copies one frame (any bytes-like object) into every subscriber's ring; returns how many got it.")
        .def("acquire_frame", &PublisherObj::acquire_frame, "size"_a,
             "Lends `size` bytes to fill in place (zero-copy into the first subscriber's ring); commit() publishes.")
        .def_prop_ro("subscriber_count", [](const PublisherObj& self) { return self.pub().subscriber_count(); })
        .def("wait_for_subscribers", [](PublisherObj& self, std::size_t n, nb::handle timeout) {
            const std::optional<milliseconds> t = seconds_to_ms(timeout);
            if (t && t->count() < 0) return self.pub().wait_for_subscribers(n, *t);  // its message
            return wait_sliced(t, [&](milliseconds slice) { return self.pub().wait_for_subscribers(n, slice); });
        }, "n"_a, "timeout"_a.none() = 5.0)
        .def("_subscribers", [](const PublisherObj& self) {
            nb::list out;
            for (const zerobuffer::SubscriberInfo& info : self.pub().subscribers()) out.append(info_dict(info));
            return out;
        })
        .def_prop_ro("frames_published", [](const PublisherObj& self) { return self.pub().frames_published(); })
        .def_prop_ro("topic", [](const PublisherObj& self) { return self.pub().topic(); })
        .def_prop_ro("is_open", [](const PublisherObj& self) { return self.pub().is_open(); })
        .def("close", [](PublisherObj& self) { self.close(true); })
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](PublisherObj& self, nb::handle type, nb::handle, nb::handle) { self.close(type.is_none()); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none())
        .def("__repr__", [](const PublisherObj& self) {
            return fmt::format("Publisher('{}', subscribers={}{})", self.pub().topic(), self.pub().subscriber_count(),
                               self.pub().is_open() ? "" : ", closed");
        });

    nb::class_<LoanObj>(m, "PublishLoan", "A frame lent by Publisher.acquire_frame, to fill in place and commit.")
        .def_prop_ro("data", [](LoanObj& self) {
            nb::object cached = self.bytes().views.cached();
            return cached.is_valid() ? cached : region_view(self.region);
        }, "Writable memoryview of the frame (zero-copy; invalidated by commit or abandon).")
        .def_prop_ro("size", [](const LoanObj& self) { return self.bytes().size; })
        .def_prop_ro("pending", [](const LoanObj& self) { return self.bytes().valid; })
        .def("__len__", [](const LoanObj& self) { return self.bytes().size; })
        .def("commit", &LoanObj::commit, "Publishes the frame; returns how many subscribers got it.")
        .def("abandon", &LoanObj::abandon, "Drops the frame: nothing is published. Idempotent.")
        .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
        .def("__exit__", [](LoanObj& self, nb::handle type, nb::handle, nb::handle) { self.exit(type.is_none()); },
             "type"_a.none(), "value"_a.none(), "traceback"_a.none())
        .def("__repr__", [](const LoanObj& self) {
            return fmt::format("PublishLoan(size={}{})", self.bytes().size, self.bytes().valid ? "" : ", done");
        });
}

void bind_subscriber(nb::module_& m) {
    nb::class_<SubscriberObj> cls(m, "Subscriber", nb::is_weak_referenceable(),
                                  "One subscriber of a topic: creates and reads its own buffer TOPIC@ID.");
    cls.def("__init__", [](SubscriberObj* self, std::string topic, nb::handle config, std::optional<std::string> id,
                           bool verify_sequence, bool prefault) {
           const zerobuffer::BufferConfig c = config_from(config);
           std::string subscriber_id = id.value_or(std::string());
           zerobuffer::ReaderOptions options;
           options.verify_sequence = verify_sequence;
           options.prefault = prefault;
           new (self) SubscriberObj(std::in_place, std::move(topic), c, std::move(subscriber_id), options);
       }, "topic"_a, "config"_a.none() = nb::none(), "id"_a.none() = nb::none(), nb::kw_only(),
       "verify_sequence"_a = true, "prefault"_a = true)
        .def("is_publisher_connected", [](const SubscriberObj& self) { return self.source->is_publisher_connected(); })
        .def("wait_for_publisher", [](SubscriberObj& self, nb::handle timeout) {
            const std::optional<milliseconds> t = seconds_to_ms(timeout);
            if (t && t->count() < 0) return self.source->wait_for_publisher(*t);  // its message
            return wait_sliced(t, [&](milliseconds slice) { return self.source->wait_for_publisher(slice); });
        }, "timeout"_a.none() = 5.0)
        .def_prop_ro("topic", [](const SubscriberObj& self) { return self.source->topic(); })
        .def_prop_ro("id", [](const SubscriberObj& self) { return self.source->id(); })
        .def_prop_ro("buffer_name", [](const SubscriberObj& self) { return self.source->buffer_name(); })
        .def("__repr__", [](const SubscriberObj& self) {
            return fmt::format("Subscriber('{}'{})", self.source->buffer_name(), self.source->is_open() ? "" : ", closed");
        });
    bind_reading(cls);
}

}  // namespace

void bind_topics(nb::module_& m) {
    bind_publisher(m);
    bind_subscriber(m);
}

}  // namespace zbpy
