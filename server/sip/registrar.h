// The registrar's decisions, pure: which REGISTER is a new registration, a refresh, a
// keep-alive to a backup, an unregister; what expiry to grant; when to say x-cisco-newreg;
// when a binding has expired. The sofia layer (sip_service) turns requests into
// RegisterRequest and RegisterDecision into a 200 OK; this class never sees sofia types.
//
// One binding per device (bulk registration: the primary line's REGISTER registers every
// line of the device, as CUCM does). A binding belongs to the address that made it: while it
// is live (not past expiry + grace, its TCP connection open) a REGISTER for the device from
// another address is refused, an unregister too; and a Contact must name the REGISTER's own
// source, so nothing labcm sends a phone (NOTIFY) can be aimed at a third party.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/cisco.h"

namespace labcm::sip {

using Clock = std::chrono::steady_clock;

/// @brief What the registrar knows about a configured device (pushed from the store).
struct DeviceView {
    std::string mac;
    std::string model;
    std::vector<std::string> dns; ///< the device's lines, by button order
    bool digest = false;          ///< challenge REGISTER
    std::map<std::string, std::string> credentials; ///< auth name -> password, from the lines
    std::vector<std::string> displayNames; ///< caller-ID name of each line, in the order of dns
    std::vector<std::string> blfTargets;   ///< the numbers its BLF speed dials watch (distinct)

    /// @brief The caller-ID name stored for line `dn` ("" when the device has no such line or
    /// the line has none).
    std::string displayName(std::string_view dn) const;
};

/// @brief A REGISTER, reduced to what the decision needs (copied out of the SIP stack).
struct RegisterRequest {
    std::string mac;              ///< identified device; empty = could not identify
    std::string callId;
    std::uint32_t cseq = 0;
    std::string contact;          ///< the Contact header as sent (echoed back)
    std::string source;           ///< "transport:ip:port" it came from
    std::string contactHost;      ///< the Contact URI's host, unbracketed ("" for Contact: *)
    bool boundConnectionClosed = false; ///< the device's bound TCP connection has closed
    std::string leasedAddress;    ///< the address labcm's DHCP leased the device ("" when none)
    std::string transport;        ///< "udp" or "tcp"
    std::string userAgent;
    long expires = 3600;          ///< Expires header (or Contact expires); 0 = unregister / keep-alive
    CiscoContact contactParams;
    std::optional<CiscoReason> reason;
    bool bulk = false;            ///< carried the bulkregisterreq body (start of a registration cycle)
};

/// @brief A live registration.
struct Binding {
    std::string mac;
    std::string callId;
    std::string contact;
    std::string source;
    std::string transport;
    std::string userAgent;
    std::optional<int> modelId;
    std::string activeLoad, inactiveLoad, lastReason;
    int alarm = -1;
    int grantedSeconds = 0;
    std::uint32_t cseq = 0;       ///< of the REGISTER that made or refreshed it
    bool newreg = false;          ///< that REGISTER started a registration cycle
    Clock::time_point expiresAt;  ///< after this (plus the grace) the phone counts as gone
    std::chrono::system_clock::time_point registeredAt;
    bool live = true;             ///< false: restored from the database after a restart
    std::vector<std::string> dns; ///< lines registered with it
};

/// @brief Copies what a REGISTER itself says about its binding: who and where from, and the
/// loads, Last= and alarm when it carried a Reason (otherwise the binding keeps its own).
/// Registrar::onRegister applies it to the binding it keeps; an unregister is saved as it.
void applyRequest(Binding& b, const RegisterRequest& r);

enum class RegisterOutcome {
    NewRegistration, ///< first REGISTER of a cycle, or no live binding: x-cisco-newreg + optionsind
    Refresh,         ///< keep-alive REGISTER of a live binding: plain 200
    BackupKeepAlive, ///< Expires 0 with cisco-keep-alive: 200, binding untouched
    Unregistered,    ///< Expires 0: binding removed
    UnknownDevice,   ///< 404
    Refused,         ///< 403: the device is registered from another address, or the Contact is not the source
    Unidentified,    ///< no devicename, Name= or instance MAC: 404
};
std::string_view toString(RegisterOutcome o);

struct RegisterDecision {
    RegisterOutcome outcome;
    int status = 200;
    int expires = 0;        ///< Expires header value to send
    bool newreg = false;    ///< append ;x-cisco-newreg to the Contact echo
    bool optionsInd = false;///< send the optionsind response body
    bool retransmission = false; ///< the REGISTER already answered (same Call-ID and CSeq): same answer, nothing changed
    std::string detail;     ///< for the event and the log
};

class Registrar {
public:
    /// @param grantedSeconds the Expires labcm grants (CUCM: 120); clamped to >= 25
    /// @param grace how long after the expiry a missing refresh is tolerated (CUCM: ~15 s)
    Registrar(int grantedSeconds, std::chrono::seconds grace);

    void setDevices(std::vector<DeviceView> devices);
    /// @brief Adds or replaces one device (its live binding, if any, takes the new lines).
    void upsertDevice(DeviceView device);
    /// @brief Forgets one device and its binding. @return true when it had a binding.
    bool removeDevice(const std::string& mac);
    void setGrantedSeconds(int seconds);
    /// @brief Whether a REGISTER's Contact host must be its source address (default true;
    /// false for phones behind NAT, setting sip_nat).
    void setContactMustBeSource(bool must) { contactMustBeSource_ = must; }
    const DeviceView* device(const std::string& mac) const;

    RegisterDecision onRegister(const RegisterRequest& r, Clock::time_point now,
                                std::chrono::system_clock::time_point wallNow);

    /// @brief Removes bindings past expiry + grace; returns them.
    std::vector<Binding> sweep(Clock::time_point now);

    /// @brief Puts back a binding loaded from the database (not live: the next REGISTER
    /// gets x-cisco-newreg).
    void restore(Binding b);

    const Binding* binding(const std::string& mac) const;
    /// @brief Whether a phone can be reached through `b`: registered by a REGISTER this run
    /// (not only restored) and not past its expiry plus the grace.
    bool reachable(const Binding& b, Clock::time_point now) const { return b.live && now <= b.expiresAt + grace_; }
    /// @brief The devices with a line on `dn` (sorted MACs), nullptr when none has.
    const std::vector<std::string>* devicesOnDn(std::string_view dn) const;
    /// @brief The devices with a BLF speed dial on `dn` (sorted MACs), nullptr when none has.
    const std::vector<std::string>* watchersOf(std::string_view dn) const;
    /// @brief Whether `digits` is the start of (and shorter than) some device's DN.
    bool beginsSomeDn(std::string_view digits) const;
    const std::map<std::string, Binding>& bindings() const { return bindings_; }
    /// @brief Drops bindings of devices that no longer exist; returns their MACs.
    std::vector<std::string> pruneUnknown();

private:
    /// @brief Why `r` may not touch the device's registration ("" = it may): a live binding
    /// from another address whose connection is open, or a Contact host that is not the source.
    std::string refusal(const RegisterRequest& r, const Binding* bound, Clock::time_point now) const;

    int granted_;
    bool contactMustBeSource_ = true;
    std::chrono::seconds grace_;
    void indexLines(const DeviceView& d, bool add);

    std::map<std::string, DeviceView> devices_;
    std::map<std::string, std::vector<std::string>, std::less<>> macsByDn_; ///< the lines of devices_, by DN
    std::map<std::string, std::vector<std::string>, std::less<>> watchersByDn_; ///< their BLF speed dials, by target
    std::map<std::string, Binding> bindings_;
};

} // namespace labcm::sip
