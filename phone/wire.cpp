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
    std::string contact = "<sip:" + r.contactUser + "@" + hostport + ";transport=" + std::string(toString(r.transport)) +
                          ">;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-" + lower(r.mac) + ">\"";
    if (p.devicenameParam) contact += ";+u.sip!devicename.ccm.cisco.com=\"SEP" + r.mac + "\"";
    contact += ";+u.sip!model.ccm.cisco.com=\"" + std::to_string(p.typemodel) + "\"";
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
