// The SIP registrar on sofia-sip (nta): its own thread owns su_root, the nta agent, the
// registrar state and the phones' TCP connections (tport references). Everything else talks
// to it by posting jobs (setDevices, control); it talks back with copied data only: events on
// the EventBus (thread-safe) and registration records to `persist` (the store writer).
//
// All sofia types stay inside server/sip/: sip_service.cpp (the loop), register_handler.cpp,
// phone_control.cpp and their private headers sofia_impl.h and sofia_raii.h (owning handles).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/events.h"
#include "core/mailbox.h"
#include "sip/call_router.h"
#include "sip/cisco.h"
#include "sip/connection_guard.h"
#include "sip/registrar.h"
#include "store/registration_store.h"

namespace labcm::sip {

class SipTrace;

struct SipConfig {
    std::string bindAddress;   ///< explicit address to bind (sofia binds per address; "0.0.0.0" = all of them)
    std::uint16_t port = 5060; ///< UDP and TCP
    int grantedSeconds = 120;  ///< Expires granted to phones
    std::string advertisedHost;///< our address in From of requests we send (the registrar address)
    bool nat = false;          ///< phones reach labcm through NAT: a Contact host need not be the source
    std::size_t tcpPerAddress = 16; ///< TCP connections one address may hold (0: no cap)
    bool requireDigest = false;     ///< every device must pass digest (setting sip_require_digest)
    std::optional<Trunk> trunk;     ///< where numbers no device has go (setting sip_trunk)
    SipTrace* trace = nullptr;      ///< where every message sent and received is kept (null or off: none)
};

/// @brief Outcome of a service-control NOTIFY, for the CLI/web.
struct ControlResult {
    bool sent = false;     ///< a final response came back
    int status = 0;        ///< SIP status (408/503 synthesised by sofia for timeout / dead connection)
    std::string phrase;
    std::string detail;    ///< one line for the admin
};

/// @brief A call in progress (answered, not yet hung up), for the admin.
struct ActiveCall {
    std::string callId;
    std::string callerMac, callerDn; ///< who called, on which line
    std::string calleeMac, number;   ///< who answered, the number dialled
    std::chrono::system_clock::time_point answered;
};

struct CallCounters {
    std::uint64_t attempted = 0; ///< INVITEs that rang at least one phone
    std::uint64_t answered = 0;  ///< of those, answered (a 2xx relayed)
    std::size_t active = 0;      ///< calls in progress
};

class SipService {
public:
    using Persist = std::function<void(store::RegistrationRecord)>;
    /// @brief A REGISTER from a device labcm does not know: its MAC, the model it reported
    /// (labcm name, "" when none), its user agent and address. Runs on the sofia thread.
    using UnknownPhone = std::function<void(std::string mac, std::string model, std::string userAgent, std::string ip)>;

    /// @brief The address labcm's DHCP leased a device (by MAC), "" when none. Runs on the
    /// sofia thread, per REGISTER.
    using LeaseOf = std::function<std::string(const std::string& mac)>;
    SipService(SipConfig config, EventBus& bus, Persist persist, UnknownPhone unknown = {}, LeaseOf leaseOf = {});
    ~SipService();
    SipService(const SipService&) = delete;
    SipService& operator=(const SipService&) = delete;

    /// @brief Starts the sofia thread, binds UDP and TCP, restores `restored` bindings.
    /// @throw std::runtime_error when the stack cannot start (address in use, ...).
    void start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored);
    /// @brief Unregisters nothing, keeps the database as it is, releases the phones'
    /// connections, joins the thread. Idempotent.
    void stop();

    /// @brief Replaces the registrar's device view. Returns once the sofia thread applied it
    /// (at most limits::kSipApplyWait), so a change acknowledged after this call is seen by
    /// every later REGISTER.
    void setDevices(std::vector<DeviceView> devices);
    /// @brief Adds or replaces one device in the registrar's view; returns once applied, as
    /// setDevices (auto-registration: the registrar knows the device before its file is served).
    void addDevice(DeviceView device);
    /// @brief Removes one device from the registrar's view (its binding and its connection go);
    /// returns once applied, as setDevices.
    void removeDevice(std::string mac);

    /// @brief Sends `Event: service-control` to the phone over its own connection (TCP) or
    /// to its contact (UDP); `done` runs on the sofia thread with the outcome: post onwards.
    void control(std::string mac, PhoneAction action, std::string configStamp,
                 std::function<void(ControlResult)> done);

    /// @brief Any thread: the mailboxes (every one there is). A mailbox whose counts changed,
    /// appeared or went (then: no messages) gets a message-summary NOTIFY on each registered
    /// phone with a line on its DN; a phone also gets its lines' at each new registration.
    void setMailboxes(std::vector<Mailbox> mailboxes);

    /// @brief The calls in progress (a copy, taken on the sofia thread; empty when it does not
    /// answer within limits::kSipApplyWait).
    std::vector<ActiveCall> calls();
    /// @brief Any thread: calls attempted, answered, in progress.
    CallCounters callCounters() const;

    /// @brief The port actually bound (tests bind explicit free ports).
    std::uint16_t port() const;
    /// @brief Any thread: REGISTERs (any datagrams) the kernel dropped on the UDP socket because
    /// labcm fell behind (its receive buffer was full): overload sheds the newest, counted.
    std::uint64_t udpDropped() const;
    /// @brief Any thread: TCP connections open, refused (cap, address, descriptors) and closed.
    ConnectionGuardCounters tcpConnections() const;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace labcm::sip
