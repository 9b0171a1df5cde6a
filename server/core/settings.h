// Typed server settings. Stored as key/value rows (only values that differ from the
// default); read into an immutable Settings that is validated as a whole, then swapped in
// atomically (SettingsHolder), so services never see a half-applied change.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"

namespace labcm {

/// @brief Where the calls to numbers no device has go (setting sip_trunk): a PBX, a gateway,
/// a test tool.
struct SipTrunk {
    std::string host;          ///< a host name or an address (IPv6 without brackets)
    std::uint16_t port = 5060;
    std::string transport = "udp";
};
/// @brief `sip:host[:port][;transport=udp|tcp]` (IPv6 in brackets); nullopt for anything else.
std::optional<SipTrunk> parseSipTrunk(std::string_view value);

struct Settings {
    std::string registrarAddress = "auto"; ///< processNodeName phones register to; "auto" = this host's address
    std::string bindAddress = "0.0.0.0";   ///< address the phone-facing services bind
    std::uint16_t sipPort = 5060;          ///< SIP, UDP and TCP
    std::uint16_t httpPort = 6970;         ///< phone config over HTTP
    std::uint16_t tftpPort = 69;           ///< phone config over TFTP
    std::string adminBind = "0.0.0.0";     ///< admin web/API bind address
    std::uint16_t adminPort = 8080;        ///< admin web/API
    std::string timezone = "Etc/UTC";      ///< Olson name, mapped to Cisco's names in the SEP file
    std::vector<std::string> ntpServers;   ///< host names or addresses, in order of preference
    /// The phones' callManagerGroup in priority order (at most 3): "self" is labcm
    /// (registrar_address, sip_port), others "host" or "host:port" (another labcm, a CUCM).
    std::vector<std::string> callManagers{"self"};
    bool autoRegistration = false;         ///< create unknown phones that ask for their SEP file
    std::string autoRegDnFirst = "1000";   ///< first DN handed out by auto-registration
    std::string autoRegDnLast = "1999";    ///< last DN handed out (inclusive)
    std::string voicemailNumber;           ///< messagesNumber on every line; empty = none
    std::string userLocale = "English_United_States"; ///< locale folder under files/ (sent only if present)
    std::string networkLocale = "United_States";      ///< tones folder under files/ (sent only if present)
    int registerExpires = 120;             ///< Expires granted to phones, seconds (CUCM: 120; >= 25)
    std::string dhcpInterface;             ///< DHCP answers broadcasts on this interface; "" = see dhcp_interface help
    std::uint16_t dhcpPort = 67;           ///< DHCP server port; clients are on dhcpPort + 1
    bool sipNat = false;                   ///< phones behind NAT: a REGISTER's Contact host need not be its source
    bool dhcpCiscoOnly = false;            ///< answer only Cisco phones and configured devices
    bool sipRequireDigest = false;         ///< every phone must pass digest, not only those with digest on
    int connectionsPerAddress = 16;        ///< TCP connections one address may hold on SIP and HTTP 6970; 0 = no cap
    std::string sipTrunk;                  ///< "sip:host[:port][;transport=udp|tcp]": numbers no device has go there; "" = off
    int prtKept = 5;                       ///< problem reports kept per phone
    int prtMaxDays = 90;                   ///< problem reports older than this go; 0 = no age limit
    int sipTraceMaxDays = 7;               ///< SIP trace messages older than this are dropped; 0 = no age limit
    int sipTraceMessages = 100;            ///< SIP messages kept per phone for its trace and pcap; 0 = none
    int diagnosisWait = 60;                ///< seconds before a phone that did not take its next boot step counts as stuck
};

/// @brief One setting as the CLI, API and store see it.
struct SettingInfo {
    std::string_view key;
    std::string_view type; ///< "host", "address", "port", "bool", "host-list", "olson", "dn", "dn-or-empty", "folder",
                           ///< "interface-or-empty", "count", "seconds", "call-managers"
    std::string_view help;
};

std::span<const SettingInfo> settingInfos();

/// @brief The host of a call_managers item ("host", "host:port", "[v6]:port", a bare IPv6 address).
std::string callManagerHost(std::string_view item);
/// @brief Its SIP port (5060 when not given); nullopt when the port is not a number from 1 to 65535.
std::optional<std::uint16_t> callManagerPort(std::string_view item);

/// @brief Builds Settings from stored rows (keys this build does not know are ignored).
/// @throw FieldErrorException naming the key when a value is invalid or a cross-field rule
/// fails (first DN after last DN).
Settings settingsFromRows(const std::map<std::string, std::string>& rows);

/// @brief The text form of one setting's value.
std::string settingValue(const Settings& s, std::string_view key);

/// @brief Checks one key/value; returns the canonical text form to store.
/// @throw FieldErrorException for an unknown key or a bad value.
std::string canonicalSetting(std::string_view key, std::string_view value);

/// @brief Thrown by the settings functions; carries the field (the key) and the reason.
struct FieldErrorException : std::runtime_error {
    explicit FieldErrorException(FieldError e);
    FieldError error;
};

/// @brief Holds the current Settings; readers on any thread get a consistent snapshot.
class SettingsHolder {
public:
    explicit SettingsHolder(Settings s) : current_(std::make_shared<const Settings>(std::move(s))) {}
    std::shared_ptr<const Settings> get() const { return current_.load(); }
    void set(Settings s) { current_.store(std::make_shared<const Settings>(std::move(s))); }

private:
    std::atomic<std::shared_ptr<const Settings>> current_;
};

} // namespace labcm
