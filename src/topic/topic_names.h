// Names of a topic's subscriber buffers: TOPIC@ID. Validation, composition, recognising a
// buffer of a topic, and the default subscriber ID. No OS calls but the PID.
#pragma once

#include <string>
#include <string_view>

namespace zerobuffer::detail {

// "TOPIC@": every subscriber buffer of TOPIC starts with it.
std::string topic_prefix(std::string_view topic);

// The ID of `buffer_name` if it is a subscriber buffer of the topic whose prefix is `prefix`
// (a non-empty rest after the prefix); empty otherwise.
std::string_view subscriber_id_of(std::string_view prefix, std::string_view buffer_name) noexcept;

// An ID unique to this process and call: "<pid>-<counter>-<8 random hex digits>" (the random
// part keeps IDs apart across PID namespaces that share /dev/shm).
std::string default_subscriber_id();

}  // namespace zerobuffer::detail
