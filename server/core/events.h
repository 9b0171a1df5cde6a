// The per-phone event stream. Every service (DHCP, TFTP, HTTP, SIP, admin) publishes what it
// did for a phone here; the stream feeds the log, SQLite (batched, see store/event_log.h)
// and live subscribers (the web's Server-Sent Events, the per-phone timeline).
//
// Threading: publish() may be called from any thread and never blocks on I/O. Subscriber
// callbacks run on the publishing thread with the lock released; they must be short and
// post to their own executor (copying the event) for anything else.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labcm {

/// Which part of labcm saw the event.
enum class Service : std::uint8_t { System, Dhcp, Tftp, Http, Sip, Admin, Control };

enum class Severity : std::uint8_t { Info, Warning, Error };

/// What happened. Later services add their kinds here; the stored form is the string name.
enum class EventKind : std::uint8_t {
    // system
    ServerStarted,
    ServerStopping,
    StoreExternalChange, ///< a write made outside this process was noticed (data_version)
    EventsDropped,       ///< the SQLite sink was full; details say how many
    // admin / control writes
    DeviceAdded,
    DeviceChanged,
    DeviceRemoved,
    LineAdded,
    LineRemoved,
    DevicesImported,
    SettingChanged,
    ModelDefaultChanged,
    DialPlanChanged,    ///< an admin dial pattern added, changed or removed
    PhoneSettingChanged, ///< a phone setting of the lab or a model (a device's: DeviceChanged)
    MailboxChanged,     ///< a mailbox's message counts set or removed (message waiting)
    FilesImported,      ///< a firmware package imported or a locale installed from the API (or refused: warning)
    // provisioning (tftp, http)
    FileServed,         ///< a file was sent completely
    FileNotFound,       ///< the name is valid but there is no such file (CTL/ITL included)
    FileRefused,        ///< the name or request was refused (traversal, bad option, WRQ)
    FileFailed,         ///< a transfer started but did not finish (timeout, client error)
    FirmwareIncomplete, ///< a load in use lacks its .loads or image files (not sent to phones)
    FirmwareComplete,   ///< a load that was incomplete has all its files again (sent to phones)
    ProblemReport,      ///< a phone uploaded its problem report (PRT), stored
    // sip
    PhoneRegistered,    ///< a new registration (or a lost one re-created); details carry the loads
    PhoneUnregistered,  ///< Expires 0 (details carry Last=)
    PhoneExpired,       ///< no refresh within expiry + grace
    RegisterRejected,   ///< unknown or unidentifiable device, or bad credentials
    PhoneControlled,    ///< a service-control NOTIFY and how it ended
    CallAttempt,        ///< an INVITE: who called which number, where it rang or why it was refused
    MessageWaiting,     ///< a message-summary NOTIFY to a phone's line and how it ended
    // dhcp
    DhcpPoolChanged,    ///< admin: a pool added, changed or removed (or a lease freed)
    DhcpOffered,        ///< OFFER sent (details: address, pool, vendor class)
    DhcpAcked,          ///< lease committed and ACK sent (also renewals)
    DhcpNaked,          ///< NAK sent, and why
    DhcpReleased,       ///< the client gave its address back
    DhcpDeclined,       ///< the client found the address in use; quarantined
    DhcpIgnored,        ///< not answered: cisco-only mode, no pool for the network, another server chosen
    DhcpExhausted,      ///< no free address in the pool
    DhcpExpired,        ///< a lease ended without a renewal (the sweep marked it)
    // admin web
    AdminPasswordChanged, ///< every admin session ends
    AdminLogin,           ///< a login, or a refused one (warning), with the client address
};

std::string_view toString(Service s);
std::string_view toString(Severity s);
std::string_view toString(EventKind k);
std::optional<Service> serviceFromString(std::string_view s);
std::optional<Severity> severityFromString(std::string_view s);
std::optional<EventKind> eventKindFromString(std::string_view s);

struct Event {
    std::uint64_t seq = 0;        ///< assigned by EventBus::publish, increasing from 1
    std::chrono::system_clock::time_point time{};
    std::string mac;              ///< 12 upper-case hex digits, or empty when not per-phone
    std::string ip;               ///< peer address as text, or empty
    Service service = Service::System;
    EventKind kind = EventKind::ServerStarted;
    Severity severity = Severity::Info;
    std::string detail;           ///< human-readable; cut at limits::kMaxEventDetail
};

/// @brief Bounded, thread-safe fan-out of events with a ring of recent ones.
class EventBus {
public:
    using Callback = std::function<void(const Event&)>;

    /// @brief RAII subscription: unsubscribes when destroyed.
    class Subscription {
    public:
        Subscription() = default;
        Subscription(EventBus* bus, std::uint64_t id) : bus_(bus), id_(id) {}
        Subscription(Subscription&& o) noexcept : bus_(std::exchange(o.bus_, nullptr)), id_(o.id_) {}
        Subscription& operator=(Subscription&& o) noexcept;
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        ~Subscription() { reset(); }
        void reset();

    private:
        EventBus* bus_ = nullptr;
        std::uint64_t id_ = 0;
    };

    explicit EventBus(std::size_t ringSize);

    /// @brief Stamps seq (and time, when unset), keeps the event in the ring and hands it to
    /// every subscriber. Returns the seq.
    std::uint64_t publish(Event e);

    /// @brief Convenience for the common case.
    std::uint64_t publish(Service service, EventKind kind, Severity severity, std::string mac,
                          std::string ip, std::string detail);

    [[nodiscard]] Subscription subscribe(Callback cb);

    /// @brief Events with seq > afterSeq still in the ring, oldest first; only those of one
    /// phone when mac is not empty.
    std::vector<Event> recent(std::uint64_t afterSeq, std::string_view mac = {}) const;

    std::uint64_t lastSeq() const { return seq_.load(); }

private:
    void unsubscribe(std::uint64_t id);

    const std::size_t ringSize_;
    mutable std::mutex mutex_;
    std::deque<Event> ring_;
    std::map<std::uint64_t, std::shared_ptr<Callback>> subscribers_;
    std::uint64_t nextSubscriber_ = 1;
    std::atomic<std::uint64_t> seq_{0};
};

} // namespace labcm
