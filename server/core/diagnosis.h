// Why is this phone not registered? (issue 22.) A phone's trail through the boot sequence,
// folded from its events (DHCP, TFTP/HTTP files, SIP) oldest first, and the verdict drawn from
// it: the last of the seed's 14 boot steps the phone reached, what went wrong in plain words
// and the next thing to check. Pure: the caller reads the events (usecases: the event log).
#pragma once

#include <chrono>
#include <map>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/events.h"

namespace labcm::diagnosis {

using Time = std::chrono::system_clock::time_point;

/// The seed's boot steps labcm can tell apart (its numbering).
enum class Step : int {
    Nothing = 1,    ///< 1-3 power, firmware from flash, voice VLAN: nothing reaches labcm yet
    Dhcp = 4,       ///< an address (option 150/66 names the TFTP server)
    TrustList = 5,  ///< CTL and ITL (not found on a non-secure cluster)
    Config = 6,     ///< SEP<MAC>.cnf.xml (XMLDefault.cnf.xml when unknown)
    Firmware = 7,   ///< the load the config names
    Connect = 9,    ///< to the call manager of the config
    Register = 10,  ///< REGISTER / 200 OK
    Registered = 14 ///< the phone shows its number
};
std::string_view stepName(Step s);

/// What one phone did, from its events: the last time of each milestone (epoch = never).
struct Trail {
    Time seen;                       ///< its last DHCP, file or SIP event
    Time leased;                     ///< DHCP ACK
    std::string address;             ///< the leased address
    Time trustAsked;                 ///< a CTL/ITL .tlv asked for
    /// How often each .tlv was asked for since its config was last served (a boot asks each
    /// once: CTLSEP, ITLSEP, ITLFile); the most of any one.
    std::map<std::string, int> trustAsks;
    int mostTrustAsks = 0;
    Time signedAsked;                ///< a signed config (.xml.sgn): it holds a trust list
    std::string signedName;
    Time ownConfig;                  ///< SEP<MAC>.cnf.xml served
    Time ownConfigMissing;           ///< SEP<MAC>.cnf.xml not found
    Time ownConfigFailed;            ///< its download broke off or was refused
    std::string configFailure;       ///< that event's detail
    Time defaultConfig;              ///< XMLDefault.cnf.xml served
    Time firmwareAsked;              ///< a firmware file (.loads, image) asked for
    std::string firmwareName;
    bool firmwareMissing = false;    ///< that file was not found
    bool firmwareFailed = false;     ///< its transfer broke off
    Time registered, unregistered, expired, refused;
    /// When the phone last refreshed before it expired (the expiry less its granted seconds
    /// and the grace, from the event's detail): a boot after that is a new story.
    Time lastRefresh;
    std::string refusal;             ///< why the last REGISTER was refused
};

/// @brief Folds one of the phone's events into its trail.
void observe(Trail& t, const Event& e);

struct Verdict {
    Step step = Step::Nothing; ///< the last step the phone reached
    bool ok = false;           ///< registered: nothing to fix
    std::string what;          ///< what happened, plain
    std::string next;          ///< the next thing to check ("" when ok)
    Time since;                ///< when that happened (epoch: never seen)
};

/// How long a firmware download may take before the phone counts as not back.
inline constexpr auto kFirmwarePatience = std::chrono::minutes(10);

/// @brief The verdict on a phone (`name`: SEP<MAC>, for the advice) from its trail at `now`;
/// `registered`: the registrar holds a live binding for it; `patience`: how long a phone may
/// take to its next step (config after a lease, REGISTER after its config) before it is stuck.
Verdict judge(const Trail& t, std::string_view name, Time now, bool registered, std::chrono::seconds patience);

/// What came of a restart, reset or apply-config (issue 22, item 5), told only when it is true.
enum class Outcome { Applied, Waiting, Failed, NoAnswer };
std::string_view outcomeName(Outcome o); ///< "applied", "waiting", "failed", "no answer"

struct Confirmation {
    Outcome outcome = Outcome::Waiting;
    std::string what;  ///< one line for the admin
    Verdict verdict;   ///< the verdict on the phone's trail since the control
};

/// @brief The outcome of `action` ("restart", "reset", "apply-config") sent at `sent`, from
/// the phone's trail of the events since then only (`t`): applied once it fetched its own
/// config and, for a restart or reset, registered after that; failed when a step failed since
/// (a file not found or broken off, XMLDefault, signed files, a refused REGISTER, its config
/// fetched and no REGISTER within `patience`); no answer when neither after `timeout`;
/// waiting before that.
Confirmation confirm(const Trail& t, std::string_view name, std::string_view action, Time sent, Time now,
                     std::chrono::seconds timeout, std::chrono::seconds patience);

} // namespace labcm::diagnosis
