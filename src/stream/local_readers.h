// The Readers of this process, by segment. A writer about to wait for space asks a reader of the
// same buffer in this process to return what its reading thread released but still batches:
// a thread that writes, reads, releases and writes again must never wait for itself.
#pragma once

#include <sys/types.h>

namespace zerobuffer::detail {

class ReleaseQueue;

void register_local_reader(dev_t dev, ino_t ino, ReleaseQueue* queue);
void unregister_local_reader(ReleaseQueue* queue) noexcept;
// Drains every local reader of segment (dev, ino). Never throws.
void flush_local_readers(dev_t dev, ino_t ino) noexcept;

}  // namespace zerobuffer::detail
