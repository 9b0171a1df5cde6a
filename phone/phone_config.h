// What a simulated phone reads from the config file it was served: SEP<MAC>.cnf.xml or
// XMLDefault.cnf.xml, parsed with pugixml the way a phone's DOM-style reader does
// (element order does not matter; unknown elements are ignored).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace labcm::phone {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct LineConfig {
    int index = 0;
    std::string name;         ///< the DN: REGISTER From/To user
    std::string displayName;
    std::string contact;      ///< Contact user (CUCM: a UUID); empty = use name
    std::string authName;
    std::string authPassword;
};

struct CallManagerConfig {
    std::string host; ///< processNodeName
    int sipPort = 5060;
};

struct PhoneConfig {
    bool isDefault = false;          ///< came from XMLDefault.cnf.xml
    std::string processNodeName;     ///< registrar host of the highest-priority callManager
    int sipPort = 5060;
    std::vector<CallManagerConfig> callManagers; ///< the group's members by priority (the first is the above)
    int transportLayerProtocol = 0;  ///< 0 = absent; 1 TCP, 2 UDP, 3 TLS, 4 TCP (CUCM's)
    int registerExpires = 3600;      ///< timerRegisterExpires
    std::vector<LineConfig> lines;   ///< featureID 9 lines, by lineIndex
    std::string load;                ///< loadInformation (XMLDefault: loadInformation<typemodel>)
    std::string dialTemplate;
    std::string softKeyFile;
    std::string userLocale;          ///< userLocale/name
    std::string networkLocale;
    std::string versionStamp;
    std::string problemReportUrl;    ///< vendorConfig/problemReportUploadURL ("" = none)
};

/// @brief An http:// URL as a phone posts to it (problemReportUploadURL): host (an IPv6
/// one without brackets), port (80 when absent), path ("/" when absent).
struct HttpUrl {
    std::string host;
    int port = 80;
    std::string path = "/";
};
/// @brief nullopt for anything but a well-formed http:// URL with a host.
std::optional<HttpUrl> parseHttpUrl(std::string_view url);

/// @brief Parses a SEP<MAC>.cnf.xml (root <device>) or XMLDefault.cnf.xml (root <Default>);
/// for the latter, the load is `loadInformation<typemodel>`.
/// @throw ConfigError naming the problem: not XML, wrong root, no callManager, bad port.
PhoneConfig parsePhoneConfig(std::string_view xml, int typemodel);

/// @brief The ring files a ring list (Ringlist.xml, Ringlist-wb.xml) offers, in order.
/// @throw ConfigError: not XML, not a CiscoIPPhoneRingList, a Ring without a FileName.
std::vector<std::string> parseRingList(std::string_view xml);

} // namespace labcm::phone
