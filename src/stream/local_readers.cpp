#include "stream/local_readers.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "stream/release_queue.h"

namespace zerobuffer::detail {
namespace {

struct Entry {
    dev_t dev;
    ino_t ino;
    ReleaseQueue* queue;
};

struct Registry {
    std::mutex mutex;  // held while draining, so a queue cannot be retired under a flush
    std::vector<Entry> entries;
};

Registry& registry() {
    static Registry r;
    return r;
}

}  // namespace

void register_local_reader(dev_t dev, ino_t ino, ReleaseQueue* queue) {
    std::lock_guard lock(registry().mutex);
    registry().entries.push_back({dev, ino, queue});
}

void unregister_local_reader(ReleaseQueue* queue) noexcept {
    std::lock_guard lock(registry().mutex);
    auto& e = registry().entries;
    e.erase(std::remove_if(e.begin(), e.end(), [&](const Entry& x) { return x.queue == queue; }), e.end());
}

void flush_local_readers(dev_t dev, ino_t ino) noexcept {
    std::lock_guard lock(registry().mutex);
    for (const Entry& x : registry().entries) {
        if (x.dev == dev && x.ino == ino) x.queue->drain();
    }
}

}  // namespace zerobuffer::detail
