#include "bridge/receiver_streams.h"

#include <algorithm>

namespace zerobuffer::bridge::detail {

StreamTable::Stream* StreamTable::find_or_add(std::uint64_t stream, bool& added) {
    ++clock_;
    for (Stream& s : streams_) {
        if (s.id == stream) {
            s.last_use = clock_;
            added = false;
            return &s;
        }
    }
    added = true;
    ++seen_;
    if (streams_.size() >= capacity_) {
        // Forget the stream heard from least recently (a sender long gone).
        auto oldest = std::min_element(streams_.begin(), streams_.end(),
                                       [](const Stream& a, const Stream& b) { return a.last_use < b.last_use; });
        *oldest = Stream{stream, 0, clock_};
        return &*oldest;
    }
    streams_.push_back(Stream{stream, 0, clock_});
    return &streams_.back();
}

StreamTable::Update StreamTable::advance(std::uint64_t stream, std::uint64_t next, Stream*& s) {
    bool added = false;
    s = find_or_add(stream, added);
    Update update;
    update.joined = added;
    if (added) {
        s->expected = next;
    } else if (next < s->expected) {
        update.stale = true;
    } else {
        update.missing = next - s->expected;
        s->expected = next;
    }
    return update;
}

StreamTable::Update StreamTable::on_frame(std::uint64_t stream, std::uint64_t sequence) {
    Stream* s = nullptr;
    Update update = advance(stream, sequence, s);
    if (!update.stale) s->expected = sequence + 1;
    return update;
}

StreamTable::Update StreamTable::on_metadata(std::uint64_t stream, std::uint64_t next_sequence) {
    Stream* s = nullptr;
    Update update = advance(stream, next_sequence, s);
    update.stale = false;  // a connection's metadata may announce a sequence already passed
    return update;
}

}  // namespace zerobuffer::bridge::detail
