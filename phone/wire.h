// The SIP messages a simulated Cisco phone sends, built as text from its profile, so the
// bytes match what the model sends (reference: README "Phone simulator").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profiles.h"

namespace labcm::phone {

/// Who sends a REGISTER or an INVITE, and to which call manager.
struct PhoneOrigin {
    std::string server;        ///< processNodeName: Request-URI host, From/To host
    int serverPort = 5060;
    Transport transport = Transport::Tcp;
    std::string localIp;
    int localPort = 0;
    std::string mac;           ///< 12 upper-case hex digits
    std::string line;          ///< primary line name (DN): the REGISTER's line, an INVITE's From
    std::string contactUser;   ///< the line's <contact>, or the DN
};

struct RegisterRequest : PhoneOrigin {
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

/// @brief The Contact a phone names in its REGISTER and its calls: `<sip:user@ip:port;transport=x>`
/// with +sip.instance and the Cisco devicename (when the profile sends it) and model
/// parameters, by which labcm knows the device.
std::string ciscoContact(const Profile& p, std::string_view contactUser, std::string_view localIp, int localPort,
                         Transport t, std::string_view mac);

/// A call the phone places: INVITE sip:<callee>@<server>;user=phone with an SDP offer.
struct InviteRequest : PhoneOrigin {
    std::string callee;        ///< the number dialled
    std::string callId;
    std::string fromTag;
    std::string branch;
    long cseq = 101;
    std::string date;          ///< RFC 1123 date
    std::string sdp;           ///< the offer (sdpBody)
};

/// @brief The INVITE as the profile's model sends it (headers in the 88xx capture's order).
std::string buildInvite(const Profile& p, const InviteRequest& r);

/// A request inside a call, or about its INVITE: ACK, BYE, CANCEL.
struct DialogRequest {
    std::string method;        ///< ACK, BYE, CANCEL
    std::string requestUri;    ///< the peer's Contact (in a dialog) or the INVITE's Request-URI
    std::vector<std::string> routes; ///< Route headers, in order (the dialog's route set)
    std::string from, to;      ///< full header values, tags included
    std::string callId;
    long cseq = 101;
    Transport transport = Transport::Tcp;
    std::string localIp;
    int localPort = 0;
    std::string branch;        ///< the INVITE's for CANCEL and a non-2xx ACK, else a new one
    std::string userAgent;
};

/// @brief Serialises an ACK/BYE/CANCEL (no body).
std::string buildDialogRequest(const DialogRequest& r);

/// @brief A minimal audio SDP: an offer lists PCMU, PCMA and telephone-event, an answer PCMU
/// only. No media is ever sent; the port is a placeholder.
std::string sdpBody(std::string_view ip, int port, std::string_view sessionId, bool offer);

/// @brief The Call-ID form Cisco phones use: <mac[0..8]>-<mac[8..12]>NNNN-<8 hex>-<8 hex>@<ip>.
std::string ciscoCallId(std::string_view mac, unsigned a, unsigned b, std::string_view ip);

/// @brief `Digest realm="x", nonce="y", algorithm=MD5` -> {realm: x, nonce: y, algorithm: MD5};
/// keys lower-cased. Empty when the scheme is not Digest.
std::map<std::string, std::string> parseDigestChallenge(std::string_view value);

/// @brief Formats a date as RFC 1123 GMT ("Mon, 01 Jan 2024 12:00:00 GMT").
std::string rfc1123Date(long long unixSeconds);

} // namespace labcm::phone
