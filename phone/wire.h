// The SIP messages a simulated Cisco phone sends, built as text from its profile, so the
// bytes match what the model sends (reference: README "Phone simulator").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "profiles.h"

namespace labcm::phone {

struct RegisterRequest {
    std::string server;        ///< processNodeName: Request-URI host, From/To host
    int serverPort = 5060;
    Transport transport = Transport::Tcp;
    std::string localIp;
    int localPort = 0;
    std::string mac;           ///< 12 upper-case hex digits
    std::string line;          ///< primary line name (DN)
    std::string contactUser;   ///< the line's <contact>, or the DN
    std::string callId;
    std::string fromTag;
    std::string branch;
    long cseq = 101;
    int expires = 3600;
    std::optional<std::string> reason; ///< Reason header value (first REGISTER of a cycle, unregister)
    bool bulkBody = false;             ///< the two-part bulkregisterreq + optionsind body
    std::string authorization;         ///< Authorization header value, "" for none
    std::string date;                  ///< RFC 1123 date
    std::string sessionId;             ///< 32 hex digits (profiles with sessionId)
    bool standbyKeepAlive = false;     ///< to a standby call manager: Expires 0, ;expires=0;cisco-keep-alive
};

/// @brief The REGISTER as the profile's model sends it (headers in capture order).
std::string buildRegister(const Profile& p, const RegisterRequest& r);

/// @brief The Call-ID form Cisco phones use: <mac[0..8]>-<mac[8..12]>NNNN-<8 hex>-<8 hex>@<ip>.
std::string ciscoCallId(std::string_view mac, unsigned a, unsigned b, std::string_view ip);

/// @brief `Digest realm="x", nonce="y", algorithm=MD5` -> {realm: x, nonce: y, algorithm: MD5};
/// keys lower-cased. Empty when the scheme is not Digest.
std::map<std::string, std::string> parseDigestChallenge(std::string_view value);

/// @brief Formats a date as RFC 1123 GMT ("Mon, 01 Jan 2024 12:00:00 GMT").
std::string rfc1123Date(long long unixSeconds);

} // namespace labcm::phone
