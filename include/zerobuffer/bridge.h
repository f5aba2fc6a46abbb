// The ZeroMQ bridge: a buffer leaves the host and arrives as a buffer on another (docs/bridge.md).
//
// A Sender is the READER of a local buffer (it creates it; the local producer writes into it)
// and sends every frame and the metadata to its receivers. A Receiver is the WRITER of a local
// buffer (the local consumer creates it; the Receiver waits for it to appear) and writes into it
// what arrives. Between them: ZeroMQ over TCP (ROUTER on the sender, DEALER on the receiver),
// either side binding or connecting, with the bridge's own framing (wire format in
// docs/bridge.md). Part of the optional component zerobuffer::bridge; needs libzmq.
#pragma once

#include "zerobuffer/bridge_export.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zerobuffer/config.h"

namespace zerobuffer::bridge {

// What a bridge does with a frame it cannot pass on at once.
enum class Backpressure {
    block,  // wait: the sender stops reading, so the local ring fills and the producer feels it
    drop,   // never wait: the frame is dropped and counted (its sequence number is used up)
};
[[nodiscard]] ZEROBUFFER_BRIDGE_API const char* to_string(Backpressure policy) noexcept;

// What a bridge reads or writes locally: a buffer (`buffer:NAME`) or a topic (`topic:T`,
// docs/topics.md): a sender then subscribes to T, a receiver publishes on T.
enum class LocalKind { buffer, topic };

// A ZeroMQ TCP endpoint and whether this side binds it or connects to it.
struct Endpoint {
    std::string address;  // "tcp://HOST:PORT"; for bind, HOST may be "*"
    bool bind = false;
};

// Checks "tcp://HOST:PORT" (PORT 1..65535; for bind, HOST may be "*", an address or an interface
// name; for connect, not "*"). Pure, never blocks. Throws InvalidArgumentException naming the
// text and what is wrong with it.
[[nodiscard]] ZEROBUFFER_BRIDGE_API Endpoint parse_endpoint(std::string_view text, bool bind);

// A CURVE key pair, each key in Z85 (40 characters).
struct CurveKeyPair {
    std::string public_key;
    std::string secret_key;
};
// Throws InvalidArgumentException if libzmq was built without CURVE.
[[nodiscard]] ZEROBUFFER_BRIDGE_API CurveKeyPair generate_curve_keypair();
// Writes BASE.key (both keys, mode 0600) and BASE.pub (the public key, mode 0644). Refuses to
// overwrite either (InvalidArgumentException naming it); SystemError on I/O errors.
ZEROBUFFER_BRIDGE_API void write_curve_key_files(const CurveKeyPair& keys, const std::string& base_path);
// Reads a .key file (public and secret) or a .pub file (public only; secret_key empty). Throws
// InvalidArgumentException naming the file and the line that is wrong, SystemError.
[[nodiscard]] ZEROBUFFER_BRIDGE_API CurveKeyPair read_curve_key_file(const std::string& path);

// CURVE encryption and authentication (docs/bridge.md, "Security"). The receiver is always the
// CURVE server, the sender the client, whichever of them binds.
struct CurveOptions {
    CurveKeyPair own;                          // this side's keys (secret needed)
    std::string server_public_key;             // sender: the receiver's public key
    // Receiver: public keys of the senders let in; empty lets in every client that knows the
    // server's public key (encryption without client authentication).
    std::vector<std::string> allowed_client_keys;
};

// The network side of a bridge.
struct LinkOptions {
    std::vector<Endpoint> endpoints;  // at least one; each is bound or connected
    Backpressure backpressure = Backpressure::block;
    // ZeroMQ high-water marks in messages (frames), per connection; > 0.
    int send_high_water_mark = 256;
    int receive_high_water_mark = 64;
    // ZeroMQ heartbeats (ZMQ_HEARTBEAT_IVL, _TIMEOUT, _TTL): a peer silent for `heartbeat_timeout`
    // is dropped and reconnected. A cut shorter than that loses nothing (TCP retransmits).
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds heartbeat_timeout{5000};
    std::chrono::milliseconds reconnect_interval{100};      // first retry of a connect
    std::chrono::milliseconds reconnect_interval_max{1000};  // retries back off up to this
    // On a clean stop, how long queued frames may take to leave.
    std::chrono::milliseconds linger{2000};
    std::optional<CurveOptions> curve;
};

struct SenderOptions {
    LinkOptions link;
    LocalKind local = LocalKind::buffer;  // topic: the name given is a topic, subscribed to
    std::string subscriber_id;            // topic: ID of the subscriber buffer T@ID (empty: unique)
    BufferConfig buffer;                  // the local buffer the sender creates (topic: T@ID)
    ReaderOptions reader;
    // true: frames go to the socket straight out of shared memory and are released when ZeroMQ
    // is done with them. false: each frame is copied into a ZeroMQ message and released at once.
    bool zero_copy = true;
};

struct ReceiverOptions {
    LinkOptions link;
    LocalKind local = LocalKind::buffer;  // topic: the name given is a topic, published on
    WriterOptions writer;
    // How often to look for the local buffer while it does not exist (or its reader is gone).
    std::chrono::milliseconds attach_retry{100};
    // Largest ZeroMQ message accepted from the network (ZMQ_MAXMSGSIZE): a peer that sends a
    // bigger one is disconnected by ZeroMQ before the bytes are read. Frames are also checked
    // against the local ring before anything is written.
    std::uint64_t max_message_size = 64ull * 1024 * 1024;
};

// Counters of one bridge since it was made. Every field is exact.
struct BridgeStats {
    std::uint64_t frames = 0;            // frames sent (sender: to at least one receiver) or written locally
    std::uint64_t bytes = 0;             // their payload bytes
    std::uint64_t dropped = 0;           // sender: frame copies not sent (drop: a full or no connection);
                                         // receiver: frames not written (drop: local ring full; no local buffer)
    std::uint64_t gaps = 0;              // receiver: frames missing in the sequences it received
    std::uint64_t gap_events = 0;        // receiver: how many times a sequence jumped
    std::uint64_t connections = 0;       // peers that connected (sender: receivers announced; receiver: handshakes)
    std::uint64_t reconnects = 0;        // connections after the first
    std::uint64_t disconnects = 0;       // connections lost
    std::uint64_t peers = 0;             // sender: receivers it sends to now
    std::uint64_t metadata_sent = 0;     // sender: metadata messages (one per connection and change)
    std::uint64_t metadata_received = 0; // receiver
    std::uint64_t rejected = 0;          // receiver: messages that failed validation (never written)
    std::uint64_t oversized = 0;         // receiver: frames larger than the local ring can hold (also in rejected)
    std::uint64_t handshake_failures = 0;// connections refused in the ZeroMQ handshake (garbage, CURVE)
    std::uint64_t streams = 0;           // receiver: sender streams seen
    std::uint64_t local_peer_losses = 0; // the local producer (sender) or consumer (receiver) left or died
    bool local_attached = false;         // receiver: attached to its local buffer (topic: it has a subscriber) now
};

class SenderImpl;
class ReceiverImpl;

// Reads local buffer NAME, or subscribes to topic NAME (its subscriber buffer NAME@subscriber_id,
// created and removed like the buffer; a publisher that leaves is reported like a local producer
// that leaves, and the next one is served), and sends it.
// Threads: run() on one thread; request_stop(), stats() and buffer_name() from any thread.
class ZEROBUFFER_BRIDGE_API Sender {
public:
    // Creates the local buffer (see Reader; topic: see Subscriber) and binds/connects every
    // endpoint. Does not wait for receivers. Throws InvalidNameException (buffer or topic name),
    // what Reader's (Subscriber's) constructor throws, InvalidArgumentException (no endpoint,
    // bad options or keys; names them and the numbers), SystemError (a bind failed, for example
    // the port is in use; the message names the endpoint). On a throw nothing is left behind.
    Sender(std::string buffer_name, SenderOptions options);
    ~Sender();  // stops (queued frames get `linger`), closes the sockets and removes the buffer
    Sender(Sender&&) noexcept;
    Sender& operator=(Sender&&) noexcept;
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;

    // Sends until request_stop(). Blocks. A local producer that leaves or dies is reported
    // (stats, log) and the next one is served. Throws ObjectClosedException (moved from),
    // CorruptBufferException (the local buffer is damaged), SystemError (ZeroMQ failed).
    void run();
    // Makes run() return within about 100 ms. Any thread; async-signal-safe.
    void request_stop() noexcept;
    [[nodiscard]] BridgeStats stats() const;
    [[nodiscard]] const std::string& buffer_name() const;  // the name given (topic: the topic)

private:
    std::unique_ptr<SenderImpl> impl_;
};

// Receives and writes into local buffer NAME (created by the local consumer), or publishes on
// topic NAME (block: SlowSubscriberPolicy::block with the writer's write timeout, and nothing is
// taken from the network while the topic has no subscriber; drop: SlowSubscriberPolicy::drop,
// and a frame that reaches no subscriber counts as dropped).
// Threads: run() on one thread; request_stop(), stats() and buffer_name() from any thread.
class ZEROBUFFER_BRIDGE_API Receiver {
public:
    // Validates the name and binds/connects every endpoint; does not need the local buffer yet
    // (topic: starts the publisher). Throws InvalidNameException, InvalidArgumentException,
    // SystemError (bind failed: names the endpoint). On a throw nothing is left behind.
    Receiver(std::string buffer_name, ReceiverOptions options);
    ~Receiver();
    Receiver(Receiver&&) noexcept;
    Receiver& operator=(Receiver&&) noexcept;
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    // Receives until request_stop(). Blocks. Attaches to the local buffer when it appears, again
    // after its reader leaves. Bad messages from the network are counted and logged, never
    // written. Throws ObjectClosedException (moved from), SystemError (ZeroMQ failed).
    void run();
    void request_stop() noexcept;  // any thread; async-signal-safe
    [[nodiscard]] BridgeStats stats() const;
    [[nodiscard]] const std::string& buffer_name() const;

private:
    std::unique_ptr<ReceiverImpl> impl_;
};

}  // namespace zerobuffer::bridge
