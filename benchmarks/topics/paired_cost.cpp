// bench_topics: one subscriber beside a plain Writer, in paired bursts (see Paired in
// bench_topics.h).
#include "bench_topics.h"

namespace bench_topics {

Paired paired(std::size_t size, Mode mode, std::size_t burst, int pairs) {
    Paired out;
    Pipe ready, drain_a, drain_b, done;  // one drain pipe per reader: a fast one must not take the other's turn
    const BufferConfig config = ring_for(size, burst);
    const std::string plain = fresh_name("pair_writer");
    const std::string topic = fresh_name("pair_topic");
    auto reader_body = [&](auto make, const Pipe& drain) {
        return [&, make] {
            auto reader = make();
            ready.send("r", 1);
            for (int p = 0; p < pairs; ++p) {
                char c = 0;
                if (!drain.receive(&c, 1)) return 2;
                for (std::size_t k = 0; k < burst; ++k) {
                    Frame f = reader.read_frame(std::chrono::seconds(10));
                    if (!f || !check(f.data(), k, mode)) return 3;
                }
                if (reader.try_read_frame()) return 4;  // nothing more; and hands back the last released space
                done.send("d", 1);
            }
            return 0;
        };
    };
    Process a(reader_body([&] { return Reader(plain, config); }, drain_a));
    Process b(reader_body([&] { return Subscriber(topic, config, "only"); }, drain_b));
    for (int i = 0; i < 2; ++i) {
        char c = 0;
        if (!ready.receive(&c, 1)) return {{}, {}, {}, false};
    }
    Writer writer(plain);
    Publisher publisher(topic);
    if (!publisher.wait_for_subscribers(1, std::chrono::seconds(20))) return {{}, {}, {}, false};
    std::vector<std::byte> frame(size);
    fill(frame, 0);
    auto writer_burst = [&] { return timed_burst(writer, mode, frame, burst); };
    auto publisher_burst = [&] { return timed_burst(publisher, mode, frame, burst); };
    for (int p = 0; p < pairs; ++p) {
        double w = 0, q = 0;
        if (p % 2 == 0) {
            w = writer_burst();
            q = publisher_burst();
        } else {
            q = publisher_burst();
            w = writer_burst();
        }
        out.writer_ns.push_back(w);
        out.publisher_ns.push_back(q);
        out.ratios.push_back(q / w);
        drain_a.send("d", 1);
        drain_b.send("d", 1);
        for (int i = 0; i < 2; ++i) {
            char c = 0;
            if (!done.receive(&c, 1)) return {{}, {}, {}, false};
        }
    }
    const int ca = a.wait(), cb = b.wait();
    if (ca != 0 || cb != 0) std::fprintf(stderr, "bench_topics: paired readers exited with %d and %d\n", ca, cb);
    out.ok = ca == 0 && cb == 0;
    return out;
}

}  // namespace bench_topics
