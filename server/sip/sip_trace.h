// Each phone's last SIP messages, in full, as labcm sent and received them (issue 22, items 2
// and 3). The SIP thread's message log (wire_log.h) is put back together into messages and
// handed to add() on a thread of its own (wire_tap.h); a message is filed under a phone by the MAC it carries (the REGISTER's
// +sip.instance or devicename) or, for the others (its 200 OK, an INVITE to it, a NOTIFY),
// by the address:port that MAC was last seen at.
//
// Bounds: `perPhone` messages per phone, `totalBytes` for all phones together (the oldest
// message of the whole trace goes first), addresses remembered at most kMaxAddresses. A
// server-wide capture (labcm capture) writes every message, a phone's or not, to a pcap file
// until its time or size is up.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/wire_log.h"

namespace labcm::sip {

class PcapFile;

struct TracedMessage {
    std::uint64_t seq = 0;   ///< arrival order over the whole trace
    std::int64_t timeUs = 0; ///< system clock, microseconds since the epoch
    bool sent = false;       ///< labcm → phone
    bool tcp = false;
    bool truncated = false;  ///< not whole as sofia logged it (WireRecord::truncated)
    std::string address;     ///< the phone's (peer's) address and port
    std::uint16_t port = 0;
    std::string text;        ///< the whole message
};

struct TraceLimits {
    std::size_t perPhone = 100;               ///< messages kept per phone (0: no trace)
    std::size_t totalBytes = 64 * 1024 * 1024; ///< all phones' messages together
};

/// @brief kMaxCaptures run already (startCapture).
struct CaptureBusy : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct CaptureStatus {
    std::string name;
    std::string path;
    bool done = false;
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::string stopped; ///< why it ended: "time", "size", "error: ..."; empty while running
};

class SipTrace {
public:
    static constexpr std::size_t kMaxAddresses = 100'000;
    static constexpr std::size_t kMaxCaptures = 4; ///< server-wide captures running at once
    /// Bytes a kept message costs beyond its text and address, counted in the total bound: its
    /// TracedMessage with the shared block (~128 with malloc's), its slot in the ring (16, more
    /// while it grows), its entry in the arrival order (40), malloc's rounding of its text (~16).
    static constexpr std::size_t kMessageOverhead = 200;

    explicit SipTrace(TraceLimits limits);
    ~SipTrace();

    /// @brief labcm's own address and SIP port, for the other end of every packet in a pcap.
    /// `address` empty or a wildcard: a loopback peer gets the loopback, others 0.0.0.0 / ::.
    void setLocal(std::string address, std::uint16_t port);

    /// @brief One message as sofia logged it; `timeUs` when (stampTime()).
    void add(WireRecord r, std::int64_t timeUs);

    /// @brief Keeps the trace across restarts in the journal file `path`: loads what it holds
    /// (the bounds and `maxAge` apply; a record cut short ends the load) and from then on
    /// rewrites it whole from memory (snapshot()). Returns the messages kept of it.
    std::size_t persistTo(const std::filesystem::path& path, std::chrono::hours maxAge);
    /// @brief The trace's thread: writes the journal afresh when messages came since the last
    /// time and the lab is quiet (`idle`: nothing arrived for a while; at most every
    /// kSnapshotGap), or kSnapshotEvery passed under a steady load. The messages are shared
    /// with (not copied for) a thread of its own that writes them, so the trace thread never
    /// waits on the disk; one write at a time; a message dropped meanwhile lives until the
    /// write ends. `wait`: write now and wait for it (at the end).
    void snapshot(bool idle, bool wait = false);
    static constexpr auto kSnapshotEvery = std::chrono::seconds(60);
    static constexpr auto kSnapshotGap = std::chrono::seconds(10);

    /// @brief The phone's kept messages, oldest first (none older than the age limit).
    std::vector<TracedMessage> messages(const std::string& mac) const;
    /// @brief The newest of those messages whose text fits `budget` bytes as a pcap file's bytes.
    /// `count`: set to the messages written.
    std::string pcap(const std::string& mac, std::size_t budget = SIZE_MAX, std::size_t* count = nullptr) const;
    /// @brief The newest of the phone's messages whose text fits `budget` bytes, oldest first;
    /// `cut`: set when older ones were left out.
    std::vector<TracedMessage> newest(const std::string& mac, std::size_t budget, bool* cut = nullptr) const;

    /// @brief Starts a server-wide capture into `path` for `seconds`, at most `maxBytes`;
    /// returns its status (throws std::runtime_error when the file cannot be written or
    /// kMaxCaptures run already).
    CaptureStatus startCapture(const std::string& name, const std::string& path, std::chrono::seconds seconds,
                               std::uint64_t maxBytes);
    /// @brief A capture's status, ended first if its time is up; nullopt: no such capture.
    std::optional<CaptureStatus> capture(const std::string& name);

    std::uint64_t messagesKept() const;
    /// @brief Messages the tap could not keep (its queue full, no memory, a transport it does not read).
    void lose() { ++lost_; }
    std::uint64_t lost() const { return lost_; }
    std::uint64_t bytesKept() const;

    bool enabled() const { return limits_.perPhone > 0; }

private:
    /// A phone's messages, oldest first: a vector and the index of its first live one (a
    /// deque costs a map and a block per phone however few it holds). Each message is shared:
    /// a journal snapshot holds the same ones (no copy of 64 MiB under the lock).
    class MessageRing {
    public:
        using Item = std::shared_ptr<const TracedMessage>;
        bool empty() const { return head_ == items_.size(); }
        std::size_t size() const { return items_.size() - head_; }
        const TracedMessage& front() const { return *items_[head_]; }
        void push_back(Item m) { items_.push_back(std::move(m)); }
        void pop_front() {
            items_[head_++].reset(); // its text freed now, unless a snapshot still writes it
            if (head_ * 2 >= items_.size()) { // the dead half goes (amortised O(1) per message)
                items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
                head_ = 0;
            }
        }
        auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
        auto end() const { return items_.end(); }

    private:
        std::vector<Item> items_;
        std::size_t head_ = 0;
    };
    struct Ring {
        MessageRing messages;
        std::size_t bytes = 0;
    };
    struct Capture;

    void file(TracedMessage m, std::optional<std::string> mac);
    void writeCaptures(const TracedMessage& m, std::chrono::steady_clock::time_point now);
    void popFront(Ring& ring);

    TraceLimits limits_;
    mutable std::mutex mutex_;
    std::string localAddress_;
    std::uint16_t localPort_ = 5060;
    std::unordered_map<std::string, Ring> rings_;            ///< by MAC
    std::deque<std::pair<std::uint64_t, std::string>> order_; ///< (seq, MAC), arrival order
    struct Peer {
        std::string address;
        std::uint16_t port = 0;
        bool tcp = false;
        bool operator==(const Peer&) const = default;
    };
    struct PeerHash {
        std::size_t operator()(const Peer& p) const noexcept {
            return std::hash<std::string>{}(p.address) ^ (std::size_t{p.port} << 1 | (p.tcp ? 1u : 0u)) * 0x9e3779b97f4a7c15ull;
        }
    };
    std::unordered_map<Peer, std::string, PeerHash> macAt_; ///< where each MAC was last seen
    std::uint64_t nextSeq_ = 1;
    std::size_t totalBytes_ = 0;
    std::size_t liveCount_ = 0;
    std::vector<std::unique_ptr<Capture>> captures_;
    std::filesystem::path journalPath_;
    bool changed_ = false; ///< messages filed since the last snapshot
    std::chrono::steady_clock::time_point lastSnapshot_{};
    std::future<void> writing_; ///< the snapshot being written
    std::chrono::hours maxAge_{0};
    std::atomic<std::uint64_t> lost_{0};
    std::atomic<bool> writeFailed_{false}; ///< the last snapshot was not written: the next one writes
};

/// @brief Reads a trace journal (SipTrace::persistTo): each whole record, with its MAC, in
/// order; stops at the first record that is cut short or malformed (a crash's last write).
/// Returns the bytes of `data` read as whole records.
std::size_t readJournal(std::string_view data, const std::function<void(TracedMessage, std::string mac)>& sink);

/// @brief Writes `messages` (with their MACs, in order) as a journal to `path`, whole or not
/// at all (a new file renamed over the old); throws std::runtime_error.
void writeJournal(const std::filesystem::path& path,
                  const std::vector<std::pair<std::shared_ptr<const TracedMessage>, std::string>>& messages);

/// @brief The MAC a message names as its sender: the REGISTER Contact's +sip.instance
/// (urn:uuid:00000000-0000-0000-0000-<MAC>) or +u.sip!devicename (SEP<MAC>); nullopt if none.
std::optional<std::string> macInMessage(std::string_view text);

/// @brief A dump stamp's time of day (UTC; sofia writes no date) as microseconds since the
/// epoch: today's date at `now`, yesterday's when that would be in the future.
std::int64_t stampTime(int secondOfDay, int micros, std::chrono::system_clock::time_point now);

} // namespace labcm::sip
