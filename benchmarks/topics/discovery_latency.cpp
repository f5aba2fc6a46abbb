// bench_topics: how soon a publisher finds a new subscriber in another process. The subscriber
// creates TOPIC@ID and spins until the publisher's metadata is visible in its buffer.
#include <thread>

#include "bench_topics.h"

namespace bench_topics {

// Discovery latency between processes: {from constructor start, from its end} in ms per sample.
std::vector<std::pair<double, double>> discovery_latency(bool inotify, int samples) {
    Pipe go, result;
    const std::string topic = fresh_name(inotify ? "disc_inotify" : "disc_scan");
    Process subscriber([&] {
        for (int i = 0; i < samples; ++i) {
            char c = 0;
            if (!go.receive(&c, 1)) return 2;
            const auto t0 = Clock::now();
            std::string id = "d";
            id += std::to_string(i);
            Subscriber s(topic, ring_for(64, 16), id);
            const auto t1 = Clock::now();
            while (s.metadata().empty() && Clock::now() - t0 < std::chrono::seconds(2)) std::this_thread::yield();
            const auto t2 = Clock::now();
            const double both[2] = {std::chrono::duration<double, std::milli>(t2 - t0).count(),
                                    std::chrono::duration<double, std::milli>(t2 - t1).count()};
            result.send(both, sizeof both);
        }
        return 0;
    });
    PublisherOptions options;
    options.use_inotify = inotify;
    Publisher publisher(topic, options);
    publisher.set_metadata("m", 1);
    std::vector<std::pair<double, double>> out;
    for (int i = 0; i < samples; ++i) {
        go.send("g", 1);
        double both[2] = {0, 0};
        if (!result.receive(both, sizeof both)) break;
        out.emplace_back(both[0], both[1]);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    subscriber.wait();
    return out;
}

}  // namespace bench_topics
