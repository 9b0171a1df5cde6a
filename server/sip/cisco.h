// What Cisco SIP phones put into REGISTER and expect back, as pure functions over strings
// (no sofia types): the Reason header with load IDs, the Contact parameters that name the
// device, the User-Agent, the optionsind answer and the service-control NOTIFY body.
// Wire facts: README "SIP registrar"; research notes kept with the project history.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labcm::sip {

/// @brief `Reason: SIP;cause=200;text="cisco-alarm:23 Name=SEP... ActiveLoad=... InactiveLoad=... Last=..."`
/// (78xx/88xx) or the older `... Load=... Last=...` (79x1/79x2/79x5/7970, CIPC).
struct CiscoReason {
    int alarm = -1;            ///< the cisco-alarm number; -1 when absent
    std::string name;          ///< Name=: the device name
    std::string activeLoad;    ///< ActiveLoad= (or Load=), without ".loads"
    std::string inactiveLoad;  ///< InactiveLoad=, without ".loads"; empty on single-bank phones
    std::string last;          ///< Last=: why the phone last unregistered (reset-restart, ...)
};

/// @brief Parses the text of a Cisco Reason (with or without its quotes). nullopt when it is
/// not a cisco-alarm text at all; unknown keys are ignored.
std::optional<CiscoReason> parseCiscoReasonText(std::string_view text);

/// @brief Parses a whole Reason header value, `SIP;cause=200;text="..."`. nullopt unless the
/// protocol is SIP and a text parameter holds a cisco-alarm text.
std::optional<CiscoReason> parseReasonHeader(std::string_view value);

/// @brief "sip88xx.14-2-1-0001-14.loads" -> "sip88xx.14-2-1-0001-14" (case-insensitive).
std::string stripLoadsSuffix(std::string_view load);

/// @brief The Contact parameters labcm cares about. Names are matched case-insensitively;
/// values may be quoted.
struct CiscoContact {
    std::string deviceName;     ///< +u.sip!devicename.ccm.cisco.com (or ...ccm.features.cisco.com)
    std::optional<int> model;   ///< +u.sip!model.ccm.cisco.com: CUCM typemodel
    std::string instanceMac;    ///< the MAC at the end of +sip.instance urn:uuid, upper case
    bool keepAlive = false;     ///< cisco-keep-alive: a keep-alive to a backup, not an unregister
    std::optional<long> expires;///< expires=
};

/// @brief From (name, value) pairs as a SIP stack hands them over ("name=value" strings
/// are split by the caller, or use parseContactParamList).
CiscoContact parseContactParams(const std::vector<std::pair<std::string, std::string>>& params);

/// @brief Splits "a=1;b;c=\"x;y\"" into pairs, honouring quotes.
std::vector<std::pair<std::string, std::string>> parseContactParamList(std::string_view params);

/// @brief The MAC a device name carries: "SEP001122AABBCC" -> "001122AABBCC".
std::optional<std::string> macFromDeviceName(std::string_view name);

/// @brief Which device sent this REGISTER: +u.sip!devicename, else Reason Name=, else the MAC
/// of +sip.instance. nullopt when none of them names one.
std::optional<std::string> identifyDevice(const CiscoContact& contact, const std::optional<CiscoReason>& reason);

/// @brief "Cisco-CP8851/14.2.1" -> {"8851", "14.2.1"}; "Cisco-CP7975G/9.3.1" -> {"7975G", ...}.
std::optional<std::pair<std::string, std::string>> parseCiscoUserAgent(std::string_view ua);

/// @brief The optionsind body CUCM returns on the initial 200 OK
/// (Content-Type application/x-cisco-remotecc-response+xml).
std::string optionsIndResponse();
inline constexpr const char* kRemoteccResponseType = "application/x-cisco-remotecc-response+xml";

/// @brief What labcm asks a phone to do (service-control NOTIFY `action=`).
enum class PhoneAction { Restart, Reset, ApplyConfig, CheckVersion, PrtReport };
std::optional<PhoneAction> parsePhoneAction(std::string_view text);
std::string_view toString(PhoneAction a);

/// @brief The text/plain body of `Event: service-control`: one key=value per line, stamps in
/// braces (the phone ignores values without braces).
std::string serviceControlBody(PhoneAction action, std::string_view registerCallId, std::string_view configStamp);

/// @brief The application/simple-message-summary body (RFC 3842) of an unsolicited
/// message-summary NOTIFY: Messages-Waiting, the account, `Voice-Message: new/old` without
/// the urgent counts (a Cisco phone refuses the "(0/0)" form).
std::string messageSummaryBody(int newMessages, int oldMessages, std::string_view account);

/// @brief What a BLF lamp shows for a number (next-features.md section 4).
enum class LineState { Idle, Ringing, Busy, Unregistered };
std::string_view toString(LineState s);

/// @brief The application/pidf+xml body of an unsolicited `Event: presence` NOTIFY for BLF
/// target `dn`: basic open (closed when unregistered) in the person and the tuple, and the
/// activities a Cisco phone reads: ce:alerting when ringing, e:on-the-phone when busy.
/// `entity` is "sip:<dn>@<host>"; `dn` must be a checked DN (no XML escaping needed).
std::string presenceBody(std::string_view dn, std::string_view host, LineState state);

/// @brief True when the REGISTER body asks for bulk registration of all lines
/// (<bulkregisterreq><contact all="true">).
bool isBulkRegister(std::string_view body);

/// @brief The softkey of a remotecc REFER body (`<softkeyeventmsg><softkeyevent>Conference
/// </softkeyevent>...`: Conference, Park, ParkMonitor, iDivert, ConfList, ...): what the phone
/// asks its call manager to do. nullopt when the body is not a softkey event or names none.
std::optional<std::string> remoteccSoftkey(std::string_view body);

} // namespace labcm::sip
