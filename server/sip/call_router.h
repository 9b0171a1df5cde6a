// Where a call goes (issue 21), pure: an INVITE from a registered phone to a directory number
// is forked to every other device with a line on that number and a live registration (shared
// lines ring together), with the registered Contact as the Request-URI. Everything else gets
// its final answer here, before anything is sent: 483 when Max-Forwards is spent, 403 when the
// INVITE does not come from the registered phone its Contact names or its From claims a DN
// that is not one of that phone's lines (a phone cannot call as another), 484 for the first
// digits of a number (KPML digit-by-digit dialling sends only those), 404 for a number no
// device has (or, with a trunk configured, the call goes there), 480 when none of its devices
// is registered. Lookups are by map: the decision does not grow with the lab.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sip/registrar.h"

namespace labcm::sip {

/// @brief An INVITE, reduced to what routing needs (copied out of the SIP stack).
struct CallRequest {
    std::string calledUser; ///< the Request-URI's user part: the number dialled
    std::string callerUser; ///< the From URI's user part: the calling line's DN
    std::string callerMac;  ///< the device its Contact names (+u.sip!devicename), "" when none
                            ///< (then: a device with the From DN registered from `source`)
    std::string source;     ///< "transport:ip:port" it came from
    int maxForwards = 70;
};

enum class CallOutcome {
    Fork,           ///< ring every target
    TooManyHops,    ///< 483
    NotAPhone,      ///< 403: not from the registered phone its Contact names
    CallerRefused,  ///< 403: its From names a DN the calling phone does not have
    Incomplete,     ///< 484: the first digits of a number
    UnknownNumber,  ///< 404
    Unavailable,    ///< 480: no device of the number is registered
};
std::string_view toString(CallOutcome o);

/// @brief Where numbers no device has go (setting sip_trunk).
struct Trunk {
    std::string hostPort;  ///< "host:port", as uriHostPort() gives it
    std::string transport; ///< "udp" or "tcp"
};

/// @brief One device to ring: where, and over which registration (the trunk: mac "").
struct CallTarget {
    std::string mac;
    std::string requestUri; ///< the registered Contact's URI, as the phone sent it
    std::string transport;  ///< "udp" or "tcp"
    std::string source;     ///< the registration's "transport:ip:port"
};

struct CallDecision {
    CallOutcome outcome = CallOutcome::UnknownNumber;
    int status = 0;                 ///< the final answer when not Fork
    std::vector<CallTarget> targets;///< Fork: at least one, never the calling device
    std::string callerMac;          ///< the calling device, once identified ("" before)
    std::string detail;             ///< one line for the event and the log
};

/// @brief The decision for `r` against the registrar's devices and bindings at `now`; a
/// number no device has goes to `trunk` when there is one (never the first digits of one).
CallDecision routeCall(const CallRequest& r, const Registrar& registrar, Clock::time_point now, const Trunk* trunk = nullptr);

/// @brief Which of a call's own two phones a request inside the call is for: the one whose
/// registered Contact is at the Request-URI's host:port; when both are (one address playing
/// both phones, as a test tool does), the one whose Contact is the Request-URI itself, else the
/// caller. nullptr for neither: labcm never carries a request of a call to any other phone.
const Binding* dialogTarget(const Binding* caller, const Binding* callee, std::string_view requestUri);

/// @brief The URI of a Contact header value: `"Name" <sip:u@h;transport=tcp>;expires=60` ->
/// `sip:u@h;transport=tcp`; without angle brackets, up to the first ';' (header parameters).
std::string contactUri(std::string_view contact);

/// @brief A host as a SIP URI writes it: an IPv6 address in brackets.
std::string uriHost(std::string_view host);

/// @brief Where a SIP URI points: "host:port", the host lower case (an IPv6 one in brackets),
/// the port 5060 when none is given; "" when it is not a sip: or sips: URI with a host.
std::string uriHostPort(std::string_view uri);

} // namespace labcm::sip
