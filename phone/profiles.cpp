#include "profiles.h"

#include <algorithm>
#include <array>

#include "core/models.h"
#include "core/text.h"

namespace labcm::phone {

std::string_view toString(Transport t) { return t == Transport::Tcp ? "tcp" : "udp"; }

namespace {

// Supported headers as captured (README "Phone simulator" lists the sources).
constexpr std::string_view kSupported14 =
    "replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
    "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
    "X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1";
constexpr std::string_view kSupported79x5 =
    "replaces,join,sdp-anat,norefersub,extended-refer,X-cisco-callinfo,X-cisco-serviceuri,"
    "X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-config,"
    "X-cisco-sis-6.0.0,X-cisco-xsi-7.0.1";
constexpr std::string_view kSupported7970 = "(null),X-cisco-xsi-7.0.1";

constexpr std::string_view kInferred88xx =
    "vendor class form (CP-<model>) seen only in profiling docs; Last=initialized on a cold boot; "
    "Ringlist-wb.xml asked at boot";
constexpr std::string_view kInferred7975 =
    "Supported list from a 9.3 capture applied to 9.4; Contact user from <contact>; TFTP without options";
constexpr std::string_view kInferred7970 = "TFTP without options; register over UDP when the config says 2";

Profile sipcc(std::string_view model, std::string_view vci, std::string_view ua,
              std::string_view active, std::string_view inactive) {
    return Profile{model, 0, vci, ua, active, inactive, ReasonStyle::ActiveInactive, true, Transport::Tcp,
                   true, false, true, true, true, kSupported14, "Ringlist-wb.xml", "g3-tones.xml", "", kInferred88xx};
}

const std::array<Profile, 10>& table() {
    static const std::array<Profile, 10> t = [] {
        std::array<Profile, 10> p{
            sipcc("7821", "Cisco Systems, Inc. IP Phone CP-7821", "Cisco-CP7821/14.2.1",
                  "sip78xx.14-2-1-0001-14", "sip78xx.12-8-1-0001-455"),
            sipcc("7841", "Cisco Systems, Inc. IP Phone CP-7841", "Cisco-CP7841/14.2.1",
                  "sip78xx.14-2-1-0001-14", "sip78xx.12-8-1-0001-455"),
            sipcc("7861", "Cisco Systems, Inc. IP Phone CP-7861", "Cisco-CP7861/14.2.1",
                  "sip78xx.14-2-1-0001-14", "sip78xx.12-8-1-0001-455"),
            Profile{"7970", 0, "Cisco Systems, Inc. IP Phone CP-7970G", "Cisco-CP7970G/8.4.0",
                    "SIP70.8-4-2-30S", "", ReasonStyle::LoadOnly, false, Transport::Udp, false, true, false,
                    false, false, kSupported7970, "RingList.xml", "g3-tones.xml", "", kInferred7970},
            Profile{"7975", 0, "Cisco Systems, Inc. IP Phone CP-7975G", "Cisco-CP7975G/9.4.2",
                    "SIP75.9-4-2SR4-3S", "", ReasonStyle::LoadOnly, false, Transport::Tcp, true, false, false,
                    true, false, kSupported79x5, "RingList.xml", "g3-tones.xml", "", kInferred7975},
            sipcc("8841", "Cisco Systems, Inc. IP Phone CP-8841", "Cisco-CP8841/14.2.1",
                  "sip88xx.14-2-1-0001-14", "sip88xx.12-8-1-0001-455"),
            sipcc("8845", "Cisco Systems, Inc. IP Phone CP-8845", "Cisco-CP8845/14.2.1",
                  "sip8845_65.14-2-1-0001-14", "sip8845_65.12-8-1-0001-455"),
            sipcc("8851", "Cisco Systems, Inc. IP Phone CP-8851", "Cisco-CP8851/14.2.1",
                  "sip88xx.14-2-1-0001-14", "sip88xx.12-8-1-0001-455"),
            sipcc("8861", "Cisco Systems, Inc. IP Phone CP-8861", "Cisco-CP8861/14.2.1",
                  "sip88xx.14-2-1-0001-14", "sip88xx.12-8-1-0001-455"),
            sipcc("8865", "Cisco Systems, Inc. IP Phone CP-8865", "Cisco-CP8865/14.2.1",
                  "sip8845_65.14-2-1-0001-14", "sip8845_65.12-8-1-0001-455"),
        };
        // The model id and user-locale jar come from the server's model table (one truth).
        for (auto& prof : p)
            if (auto m = findModel(prof.model)) {
                prof.typemodel = m->typemodel;
                prof.localeJar = m->localeJar;
            }
        return p;
    }();
    return t;
}

} // namespace

std::span<const Profile> profiles() { return table(); }

std::optional<Profile> findProfile(std::string_view model) {
    auto m = findModel(model);
    if (!m) return std::nullopt;
    for (const auto& p : table())
        if (p.model == m->name) return p;
    return std::nullopt;
}

std::string reasonText(const Profile& p, int alarm, std::string_view deviceName, std::string_view activeLoad,
                       std::string_view inactiveLoad, std::string_view last) {
    std::string t = "SIP;cause=200;text=\"cisco-alarm:" + std::to_string(alarm) + " Name=";
    t += deviceName;
    if (p.reason == ReasonStyle::ActiveInactive) {
        t += " ActiveLoad=";
        t += activeLoad;
        t += ".loads InactiveLoad=";
        t += inactiveLoad.empty() ? activeLoad : inactiveLoad;
        t += ".loads";
    } else {
        t += " Load=";
        t += activeLoad;
    }
    t += " Last=";
    t += last;
    t += '"';
    return t;
}

} // namespace labcm::phone
