// bench_topics: publish cost against the subscriber count, beside a plain Writer. Every
// subscriber (or the plain Writer's reader) is a separate process whose ring holds the whole
// burst and which reads nothing until the burst is over; then each drains and checks its frames.
#include <algorithm>

#include "bench_topics.h"

namespace bench_topics {
namespace {

// A reader process: creates its buffer (Reader or Subscriber), says so, waits until the burst
// is over, then reads and checks `frames` frames.
template <class Make>
Process reader_process(Make make, const Pipe& ready, const Pipe& go, std::size_t frames, Mode mode) {
    return Process([&ready, &go, make, frames, mode] {
        auto reader = make();
        const char yes = 1;
        ready.send(&yes, 1);
        char g = 0;
        if (!go.receive(&g, 1)) return 2;
        for (std::size_t k = 0; k < frames; ++k) {
            Frame f = reader.read_frame(std::chrono::seconds(10));
            if (!f || !check(f.data(), k, mode)) return 3;
        }
        return 0;
    });
}

// Lets the readers drain and check their frames: `ns`, or -1 if one of them failed.
double after_readers(std::vector<Process>& readers, const Pipe& go, double ns) {
    for (std::size_t i = 0; i < readers.size(); ++i) go.send("g", 1);
    for (auto& r : readers) ns = r.wait() == 0 ? ns : -1;
    return ns;
}

}  // namespace

// Nanoseconds per frame, or a negative number if the run failed.
double measure(const Row& row, std::size_t frames) {
    Pipe ready, go;
    std::vector<Process> readers;
    const BufferConfig config = ring_for(row.size, frames);
    const std::string name = fresh_name(row.subscribers == 0 ? "writer" : "topic");
    const int n = std::max(row.subscribers, 1);
    for (int i = 0; i < n; ++i) {
        if (row.subscribers == 0) {
            readers.push_back(reader_process([&] { return Reader(name, config); }, ready, go, frames, row.mode));
        } else {
            std::string id = "s";
            id += std::to_string(i);
            readers.push_back(reader_process([&, id] { return Subscriber(name, config, id); }, ready, go, frames, row.mode));
        }
    }
    for (int i = 0; i < n; ++i) {
        char c = 0;
        if (!ready.receive(&c, 1)) return -1;
    }
    std::vector<std::byte> frame(row.size);
    fill(frame, 0);
    if (row.subscribers == 0) {
        double ns = -1;
        {
            Writer writer(name);
            ns = timed_burst(writer, row.mode, frame, frames);
        }
        return after_readers(readers, go, ns);
    }
    Publisher publisher(name);
    if (!publisher.wait_for_subscribers(static_cast<std::size_t>(n), std::chrono::seconds(20))) return -1;
    return after_readers(readers, go, timed_burst(publisher, row.mode, frame, frames));  // the publisher stays
}

}  // namespace bench_topics
