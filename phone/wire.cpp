#include "wire.h"

#include <array>
#include <cstdio>
#include <ctime>

#include "core/text.h"
#include "sip_message.h"

namespace labcm::phone {

namespace {

constexpr std::string_view kBoundary = "uniqueBoundary";

std::string bulkBody() {
    std::string b;
    b += "--uniqueBoundary\r\n"
         "Content-Type: application/x-cisco-remotecc-request+xml\r\n"
         "Content-Disposition: session;handling=optional\r\n\r\n"
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
         "<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\"><register></register></contact>"
         "</bulkregisterreq></x-cisco-remotecc-request>\r\n\r\n";
    b += "--uniqueBoundary\r\n"
         "Content-Type: application/x-cisco-remotecc-request+xml\r\n"
         "Content-Disposition: session;handling=optional\r\n\r\n"
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
         "<x-cisco-remotecc-request><optionsind><combine max=\"6\"><remotecc><status></status></remotecc>"
         "<service-control></service-control></combine><dialog usage=\"hook status\"><unot></unot><sub></sub>"
         "</dialog><dialog usage=\"shared line\"><unot></unot><sub></sub></dialog><presence usage=\"blf speed "
         "dial\"><unot></unot><sub></sub></presence><joinreq></joinreq><cfwdall-anyline></cfwdall-anyline>"
         "</optionsind></x-cisco-remotecc-request>\r\n";
    b += "--uniqueBoundary--\r\n";
    return b;
}

std::string lower(std::string_view s) { return text::toLower(s); }

} // namespace

std::string buildRegister(const Profile& p, const RegisterRequest& r) {
    std::string hostport = r.localIp + ":" + std::to_string(r.localPort);
    std::string transportUpper = r.transport == Transport::Tcp ? "TCP" : "UDP";
    std::string aor = "<sip:" + r.line + "@" + r.server + ">";
    std::vector<std::pair<std::string, std::string>> h;
    h.emplace_back("Via", "SIP/2.0/" + transportUpper + " " + hostport + ";branch=" + r.branch);
    h.emplace_back("From", aor + ";tag=" + r.fromTag);
    h.emplace_back("To", aor);
    h.emplace_back("Call-ID", r.callId);
    h.emplace_back("Max-Forwards", "70");
    h.emplace_back("Date", r.date);
    h.emplace_back("CSeq", std::to_string(r.cseq) + " REGISTER");
    h.emplace_back("User-Agent", std::string(p.userAgent));
    std::string contact = ciscoContact(p, r.contactUser, r.localIp, r.localPort, r.transport, r.mac);
    if (r.standbyKeepAlive) contact += ";expires=0;cisco-keep-alive";
    h.emplace_back("Contact", contact);
    if (!r.authorization.empty()) h.emplace_back("Authorization", r.authorization);
    h.emplace_back("Supported", std::string(p.supported));
    if (p.sessionId && !r.sessionId.empty())
        h.emplace_back("Session-ID", r.sessionId + ";remote=00000000000000000000000000000000");
    if (r.reason) h.emplace_back("Reason", *r.reason);
    h.emplace_back("Expires", std::to_string(r.standbyKeepAlive ? 0 : r.expires));
    std::string body;
    if (r.bulkBody) {
        h.emplace_back("Content-Type", "multipart/mixed; boundary=" + std::string(kBoundary));
        h.emplace_back("Mime-Version", "1.0");
        body = bulkBody();
    }
    std::string uri = "sip:" + r.server;
    if (r.serverPort != 5060) uri += ":" + std::to_string(r.serverPort);
    return buildRequest("REGISTER", uri, h, body);
}

std::string ciscoContact(const Profile& p, std::string_view contactUser, std::string_view localIp, int localPort,
                         Transport t, std::string_view mac) {
    std::string contact = "<sip:" + std::string(contactUser) + "@" + std::string(localIp) + ":" + std::to_string(localPort) +
                          ";transport=" + std::string(toString(t)) + ">;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-" +
                          lower(mac) + ">\"";
    if (p.devicenameParam) contact += ";+u.sip!devicename.ccm.cisco.com=\"SEP" + std::string(mac) + "\"";
    contact += ";+u.sip!model.ccm.cisco.com=\"" + std::to_string(p.typemodel) + "\"";
    return contact;
}

std::string buildInvite(const Profile& p, const InviteRequest& r) {
    std::string hostport = r.localIp + ":" + std::to_string(r.localPort);
    std::string server = r.server + (r.serverPort != 5060 ? ":" + std::to_string(r.serverPort) : "");
    std::vector<std::pair<std::string, std::string>> h;
    h.emplace_back("Via", "SIP/2.0/" + std::string(r.transport == Transport::Tcp ? "TCP " : "UDP ") + hostport +
                              ";branch=" + r.branch);
    h.emplace_back("From", "\"" + r.line + "\" <sip:" + r.line + "@" + r.server + ">;tag=" + r.fromTag);
    h.emplace_back("To", "<sip:" + r.callee + "@" + r.server + ">");
    h.emplace_back("Call-ID", r.callId);
    h.emplace_back("Max-Forwards", "70");
    h.emplace_back("Date", r.date);
    h.emplace_back("CSeq", std::to_string(r.cseq) + " INVITE");
    h.emplace_back("User-Agent", std::string(p.userAgent));
    h.emplace_back("Contact", ciscoContact(p, r.contactUser, r.localIp, r.localPort, r.transport, r.mac));
    h.emplace_back("Expires", "180");
    h.emplace_back("Accept", "application/sdp");
    h.emplace_back("Allow", "ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE,INFO");
    h.emplace_back("Supported", std::string(p.supported));
    h.emplace_back("Allow-Events", "kpml,dialog");
    h.emplace_back("Content-Type", "application/sdp");
    h.emplace_back("Content-Disposition", "session;handling=required");
    return buildRequest("INVITE", "sip:" + r.callee + "@" + server + ";user=phone", h, r.sdp);
}

std::string buildDialogRequest(const DialogRequest& r) {
    std::vector<std::pair<std::string, std::string>> h;
    h.emplace_back("Via", "SIP/2.0/" + std::string(r.transport == Transport::Tcp ? "TCP " : "UDP ") + r.localIp + ":" +
                              std::to_string(r.localPort) + ";branch=" + r.branch);
    for (const auto& route : r.routes) h.emplace_back("Route", route);
    h.emplace_back("From", r.from);
    h.emplace_back("To", r.to);
    h.emplace_back("Call-ID", r.callId);
    h.emplace_back("Max-Forwards", "70");
    h.emplace_back("CSeq", std::to_string(r.cseq) + " " + r.method);
    if (!r.userAgent.empty()) h.emplace_back("User-Agent", r.userAgent);
    return buildRequest(r.method, r.requestUri, h, "");
}

std::string sdpBody(std::string_view ip, int port, std::string_view sessionId, bool offer) {
    std::string b = "v=0\r\no=Cisco-SIPUA " + std::string(sessionId) + " 0 IN IP4 " + std::string(ip) +
                    "\r\ns=SIP Call\r\nc=IN IP4 " + std::string(ip) + "\r\nt=0 0\r\n";
    if (offer)
        b += "m=audio " + std::to_string(port) + " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
    else
        b += "m=audio " + std::to_string(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    b += "a=sendrecv\r\n";
    return b;
}

std::string ciscoCallId(std::string_view mac, unsigned a, unsigned b, std::string_view ip) {
    std::string m = lower(mac);
    char buf[64];
    std::snprintf(buf, sizeof buf, "-%08x-%08x@", a, b);
    return m.substr(0, 8) + "-" + m.substr(8, 4) + "0003" + buf + std::string(ip);
}

std::map<std::string, std::string> parseDigestChallenge(std::string_view value) {
    std::map<std::string, std::string> out;
    value = text::trim(value);
    if (value.size() < 7 || !text::iequals(value.substr(0, 6), "Digest") || value[6] != ' ') return out;
    value.remove_prefix(7);
    std::size_t pos = 0;
    while (pos < value.size() && out.size() < 32) {
        while (pos < value.size() && (value[pos] == ' ' || value[pos] == ',')) ++pos;
        auto eq = value.find('=', pos);
        if (eq == std::string_view::npos) break;
        std::string key = lower(text::trim(value.substr(pos, eq - pos)));
        pos = eq + 1;
        std::string v;
        if (pos < value.size() && value[pos] == '"') {
            auto close = value.find('"', pos + 1);
            if (close == std::string_view::npos) break;
            v = std::string(value.substr(pos + 1, close - pos - 1));
            pos = close + 1;
        } else {
            auto comma = value.find(',', pos);
            if (comma == std::string_view::npos) comma = value.size();
            v = std::string(text::trim(value.substr(pos, comma - pos)));
            pos = comma;
        }
        out[key] = v;
    }
    return out;
}

std::string rfc1123Date(long long unixSeconds) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

} // namespace labcm::phone
