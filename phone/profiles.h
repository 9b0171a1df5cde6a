// The simulated phone models, in one table: what each sends and asks for while it boots.
// Facts come from the wire references kept in the README ("Phone simulator"); where a
// behaviour is inferred rather than seen in a capture, the profile's `inferred` says so.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace labcm::phone {

enum class Transport { Tcp, Udp };
std::string_view toString(Transport t);

/// How the phone reports its firmware in the REGISTER Reason header.
enum class ReasonStyle {
    ActiveInactive, ///< 78xx/88xx (SIPCC): ActiveLoad=<load>.loads InactiveLoad=<load>.loads
    LoadOnly,       ///< 79x1/79x2/79x5/7970 (TNP): Load=<load>
};

struct Profile {
    std::string_view model;           ///< labcm short name: "8845"
    int typemodel;                    ///< +u.sip!model.ccm.cisco.com (from the models table)
    std::string_view vendorClass;     ///< DHCP option 60 (without the trailing NUL some send)
    std::string_view userAgent;       ///< User-Agent header
    std::string_view activeLoad;      ///< the load the simulated phone runs out of the box
    std::string_view inactiveLoad;    ///< the other bank ("" on single-bank phones)
    ReasonStyle reason;
    bool httpFirst;                   ///< asks HTTP :6970 first, TFTP on any failure (78xx/88xx)
    Transport defaultTransport;       ///< when the config's transportLayerProtocol is absent
    bool devicenameParam;             ///< Contact carries +u.sip!devicename.ccm.cisco.com
    bool contactUserIsLine;           ///< Contact user = line name (7970 8.4) instead of <contact>
    bool sessionId;                   ///< sends Session-ID (12.x+ firmware)
    bool itlFile;                     ///< asks ITLFile.tlv after ITLSEP<MAC>.tlv
    bool appDialRules;                ///< asks AppDialRules.xml (78xx/88xx)
    std::string_view supported;       ///< Supported header, verbatim
    std::string_view ringList;        ///< ring list file asked after registering
    std::string_view tones;           ///< network-locale tones file
    std::string_view localeJar;       ///< user-locale file
    std::string_view inferred;        ///< which parts of this profile are inferred, not captured
};

/// @brief All profiles, ordered by model name.
std::span<const Profile> profiles();

/// @brief The profile for "8845", "CP-8845", "7975G"...; nullopt when there is none.
std::optional<Profile> findProfile(std::string_view model);

/// @brief "sip88xx.14-2-1-0001-14" -> the same; used to build Reason text with ".loads".
std::string reasonText(const Profile& p, int alarm, std::string_view deviceName, std::string_view activeLoad,
                       std::string_view inactiveLoad, std::string_view last);

} // namespace labcm::phone
