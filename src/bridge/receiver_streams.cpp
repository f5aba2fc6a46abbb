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

StreamTable::Update StreamTable::on_frame(std::uint64_t stream, std::uint64_t sequence) {
    bool added = false;
    Stream* s = find_or_add(stream, added);
    Update update;
    update.joined = added;
    if (added) {
        s->expected = sequence + 1;
        return update;
    }
    if (sequence < s->expected) {
        update.stale = true;
        return update;
    }
    update.missing = sequence - s->expected;
    s->expected = sequence + 1;
    return update;
}

StreamTable::Update StreamTable::on_metadata(std::uint64_t stream, std::uint64_t next_sequence) {
    bool added = false;
    Stream* s = find_or_add(stream, added);
    Update update;
    update.joined = added;
    if (added) {
        s->expected = next_sequence;
        return update;
    }
    if (next_sequence > s->expected) {
        update.missing = next_sequence - s->expected;
        s->expected = next_sequence;
    }
    return update;
}

}  // namespace zerobuffer::bridge::detail
