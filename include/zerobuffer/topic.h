// Topics: one publisher, many subscribers, over ordinary ZeroBuffer v1 buffers (docs/topics.md).
//
// A topic T is the set of buffers named "T@ID", one per subscriber. Each subscriber is a plain
// v1 Reader that creates its own buffer T@ID and sizes its own ring; it needs no code of ours:
// a Python zerobuffer-ipc Reader("T@anything", ...) is a subscriber too. The Publisher finds
// those buffers by itself (inotify on /dev/shm, plus a periodic listing), attaches to each as
// its one v1 Writer, writes the topic's metadata into it, and from then on writes every frame it
// publishes into every subscriber's ring. Nothing but v1 bytes is ever written.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zerobuffer/config.h"
#include "zerobuffer/export.h"
#include "zerobuffer/frame.h"
#include "zerobuffer/health.h"
#include "zerobuffer/protocol.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

// Separates the topic from the subscriber ID in a subscriber buffer's name: "T@ID".
inline constexpr char kTopicSeparator = '@';
// A topic name leaves room for the separator and at least one ID character.
inline constexpr std::size_t kMaxTopicNameLength = protocol::kMaxNameLength - 2;

// Checks a topic name: 1..kMaxTopicNameLength characters, a valid buffer name (no '/', no NUL,
// not "." or "..", not starting with "sem."), without '@'. Throws InvalidNameException.
ZEROBUFFER_API void validate_topic_name(std::string_view topic);

// "TOPIC@ID", the buffer a subscriber with this ID reads. Throws InvalidNameException for an
// invalid topic, an empty ID, an ID with '/' or NUL, or a name longer than
// protocol::kMaxNameLength (the message gives both lengths).
[[nodiscard]] ZEROBUFFER_API std::string subscriber_buffer_name(std::string_view topic, std::string_view id);

// What a publisher does when a subscriber's ring has no room for the frame being published.
enum class SlowSubscriberPolicy {
    // Wait for it, up to the write timeout: every subscriber gets every frame and the slowest one
    // paces the publisher. A subscriber still full after the timeout is dropped: the publisher
    // detaches from it (its reader sees WriterDeadException once it has read what it holds) and
    // reports it; once it has read everything (and stayed caught up for 200 ms, so that its
    // reader sees the departure), it is taken back as a new writer (sequence 1).
    block,
    // Never wait: a full subscriber misses that frame, which is counted (frames_dropped); the
    // others are never delayed by it.
    drop,
};

enum class SubscriberState {
    active,        // attached: it receives the frames published from now on
    dropped,       // block policy: it stayed full past the write timeout (or its ring cannot hold
                   // a frame); detached until it has read everything it holds
    gone,          // its reader closed or died; a dead reader's buffer is reclaimed
    incompatible,  // it holds other metadata than this publisher's (written by an earlier
                   // publisher), or this publisher's metadata does not fit its metadata block
    busy,          // another writer (another publisher of the topic) is attached to it
    invalid,       // its name is taken by something that is not a usable v1 buffer
};
ZEROBUFFER_API const char* to_string(SubscriberState state) noexcept;

// One subscriber buffer as its publisher sees it.
struct SubscriberInfo {
    std::string buffer_name;             // TOPIC@ID
    std::string id;                      // ID
    SubscriberState state = SubscriberState::active;
    std::uint64_t frames_delivered = 0;  // frames this publisher wrote into its ring
    std::uint64_t frames_dropped = 0;    // frames it missed (drop policy: ring full or too small)
    std::uint64_t reader_pid = 0;        // its reader, as the buffer's header says
    std::string reason;                  // why it is not active; empty while active
};

struct PublisherOptions {
    SlowSubscriberPolicy policy = SlowSubscriberPolicy::block;
    // block policy: how long one subscriber may hold a publish up (> 0).
    std::chrono::milliseconds write_timeout{5000};
    // How often the publisher lists /dev/shm for subscriber buffers besides watching it with
    // inotify (to catch up after lost events, retry busy subscribers, and reclaim dead
    // subscribers' buffers). Without inotify, the listing runs every min(this, 50 ms). > 0.
    std::chrono::milliseconds rescan_interval{1000};
    // false: no inotify, discovery by listing only (every min(rescan_interval, 50 ms)).
    bool use_inotify = true;
    // Options of the Writer attached to each subscriber buffer (its write_timeout is the one above).
    WaitStrategy wait{};
    bool prefault = true;
    PeerMode peer_mode = PeerMode::automatic;
    // Called whenever a subscriber changes state (attached, dropped, gone, incompatible, busy,
    // invalid; not at close), on the publisher's discovery thread and never under a lock of the publisher:
    // it may call subscribers() and subscriber_count(), not publish or close. Exceptions it
    // throws are ignored. Also logged (zerobuffer/log.h) at info or warn level.
    std::function<void(const SubscriberInfo&)> on_subscriber_change;
};

class PublishLoan;

// The publishing side of topic T.
//
// Threads: one thread at a time (the publishing thread) calls set_metadata, publish,
// acquire_frame and close, and uses the loans. subscriber_count, wait_for_subscribers,
// subscribers, frames_published, topic and is_open may be called from any thread, also while
// another thread publishes or closes. Discovery, attaching, metadata writing and reclaiming
// run on a background thread of the Publisher, never on the publishing thread.
class ZEROBUFFER_API Publisher {
public:
    // Validates the topic and options, attaches to every subscriber buffer T@* that exists now
    // (so that the first publish reaches them), and starts discovery. Blocks while it attaches
    // to those (mapping their rings). Throws InvalidNameException (topic), InvalidArgumentException
    // (options), SystemError (no thread or eventfd). Problems with single subscriber buffers
    // never throw: they are reported (subscribers(), on_subscriber_change, the log).
    explicit Publisher(std::string topic, PublisherOptions options = {});
    ~Publisher();  // close()
    Publisher(Publisher&&) noexcept;
    Publisher& operator=(Publisher&&) noexcept;
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    // The topic's metadata: written into every subscriber buffer before its first frame,
    // late joiners included. Call it once, before the first publish. A subscriber buffer that
    // already holds metadata (from an earlier publisher) is kept if it is identical and reported
    // incompatible otherwise; one whose block is too small is reported incompatible. Neither
    // throws. Does not block beyond a short lock. Throws MetadataAlreadyWrittenException (called
    // twice), UsageException (after the first publish), ObjectClosedException.
    void set_metadata(std::span<const std::byte> metadata);
    void set_metadata(const void* data, std::size_t size);

    // Copies the frame into the ring of every active subscriber; returns how many got it (0
    // with no subscriber). block policy: waits for a full subscriber up to the write timeout,
    // then drops it; drop policy: never waits. A subscriber whose reader is gone leaves (gone).
    // Subscribers' failures never throw; throws InvalidFrameSizeException (size 0),
    // InvalidArgumentException (null data), UsageException (a loan is pending),
    // ObjectClosedException.
    std::size_t publish(std::span<const std::byte> frame);
    std::size_t publish(const void* data, std::size_t size);

    // Zero-copy: a loan of `size` bytes to fill and commit (see PublishLoan). block policy:
    // may wait up to the write timeout per subscriber for room. Same throws as publish.
    [[nodiscard]] PublishLoan acquire_frame(std::size_t size);

    // Subscribers attached now (the next publish goes to them unless one fails meanwhile).
    [[nodiscard]] std::size_t subscriber_count() const;
    // Waits until at least n subscribers are attached or `timeout` (>= 0) passes; true if they
    // are. Blocks. Throws InvalidArgumentException (timeout < 0).
    [[nodiscard]] bool wait_for_subscribers(std::size_t n, std::chrono::milliseconds timeout) const;
    // Every subscriber buffer this publisher knows of: active ones and those it had to leave
    // (the last 256 gone ones are kept), ordered by buffer name.
    [[nodiscard]] std::vector<SubscriberInfo> subscribers() const;

    std::uint64_t frames_published() const noexcept;  // publish calls and committed loans
    const std::string& topic() const noexcept;

    // Stops discovery and detaches from every subscriber (each sees WriterDeadException once it
    // has read what it holds, and waits for a next publisher). A pending loan becomes invalid.
    // Idempotent; never throws; the destructor calls it.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept;

private:
    friend class PublishLoan;
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// A frame reserved by Publisher::acquire_frame for the caller to fill in place. With at least
// one subscriber that has room, data() is that subscriber's ring itself (zero-copy); commit()
// publishes it there and copies it into each other subscriber's ring (one copy each, no staging
// copy). With none, data() is a scratch buffer of the publisher and commit() publishes to
// nobody. Move-only; use it on the publishing thread. Safe whatever outlives what: once its
// Publisher is closed, moved into another object's place or destroyed, it is invalid and
// commit() throws UsageException. At most one is pending per Publisher.
class ZEROBUFFER_API PublishLoan {
public:
    PublishLoan() noexcept = default;  // invalid
    PublishLoan(PublishLoan&& other) noexcept;
    PublishLoan& operator=(PublishLoan&& other) noexcept;
    PublishLoan(const PublishLoan&) = delete;
    PublishLoan& operator=(const PublishLoan&) = delete;
    ~PublishLoan() {
        if (owner_ != nullptr) abandon();
    }

    // The bytes to fill; empty once invalid.
    [[nodiscard]] std::span<std::byte> data() const noexcept { return valid() ? data_ : std::span<std::byte>{}; }
    [[nodiscard]] bool valid() const noexcept { return owner_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    // Publishes the frame: returns how many subscribers got it. Blocks like Publisher::publish
    // (block policy). Throws UsageException if not valid; subscribers' failures never throw.
    std::size_t commit();
    // Drops it: nothing is published, nothing is counted. Idempotent; never throws.
    void abandon() noexcept;

private:
    friend class Publisher;
    friend class Publisher::Impl;
    Publisher::Impl* owner_ = nullptr;  // the publisher holds the reservation behind data_
    std::span<std::byte> data_;
};

// One subscriber of topic T: a Reader on its own buffer T@ID, which it creates and owns.
//
// Threads: as Reader (one reading thread; health, is_publisher_connected and the counters from
// any thread; frames released from any thread, in any order, even after the Subscriber is gone).
//
// It outlives publishers: when the publisher dies or closes, read_frame returns the frames it
// wrote, then throws WriterDeadException once; later calls wait for the next publisher, which
// is taken up as a new writer (its frames start again at sequence 1).
class ZEROBUFFER_API Subscriber {
public:
    // Creates buffer TOPIC@ID with `config` (ring and metadata block sizes: the publisher's
    // metadata must fit). An empty ID is replaced by one unique to this process and call.
    // Throws InvalidNameException (topic, ID, or a buffer name longer than the limit), and what
    // Reader's constructor throws (ReaderAlreadyConnectedException: a live subscriber uses this ID).
    explicit Subscriber(std::string topic, const BufferConfig& config = {}, std::string id = {},
                        const ReaderOptions& options = {});
    ~Subscriber();  // close()
    Subscriber(Subscriber&&) noexcept;
    Subscriber& operator=(Subscriber&&) noexcept;
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    // Waits up to `timeout` (>= 0) for the next frame; an invalid Frame when none came. Blocks.
    // Throws WriterDeadException once per publisher that leaves (after its last frame), then
    // waits for the next one. Also throws what Reader::read_frame throws (SequenceError,
    // CorruptBufferException, InvalidArgumentException, ObjectClosedException).
    [[nodiscard]] Frame read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next frame if one is there now, else an invalid Frame. Never blocks; does not check
    // the publisher's liveness.
    [[nodiscard]] Frame try_read_frame();
    // The topic's metadata, or empty until a publisher has written it. Zero-copy: valid while
    // the Subscriber is open. Does not block.
    [[nodiscard]] std::span<const std::byte> metadata() const;
    // True if a publisher is attached and alive. Does not block.
    [[nodiscard]] bool is_publisher_connected() const;
    // Polls is_publisher_connected every 5 ms until true or `timeout` (>= 0) passes. Blocks.
    [[nodiscard]] bool wait_for_publisher(std::chrono::milliseconds timeout) const;
    // Any thread. Throws ObjectClosedException once closed.
    [[nodiscard]] BufferHealth health() const;

    std::uint64_t frames_read() const noexcept;
    const std::string& topic() const noexcept;
    const std::string& id() const noexcept;
    const std::string& buffer_name() const noexcept;  // TOPIC@ID

    // Removes the buffer (as Reader::close). Idempotent; never throws.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace zerobuffer
