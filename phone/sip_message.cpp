#include "sip_message.h"

#include <algorithm>
#include <charconv>

#include "core/text.h"

namespace labcm::phone {

using text::iequals;
using text::trim;

namespace {

// RFC 3261 §7.3.3 compact header forms.
std::string_view expandCompact(std::string_view name) {
    if (name.size() != 1) return name;
    switch (std::tolower(static_cast<unsigned char>(name[0]))) {
    case 'v': return "Via";
    case 'f': return "From";
    case 't': return "To";
    case 'i': return "Call-ID";
    case 'm': return "Contact";
    case 'l': return "Content-Length";
    case 'c': return "Content-Type";
    case 'e': return "Content-Encoding";
    case 'k': return "Supported";
    case 's': return "Subject";
    case 'o': return "Event";
    case 'u': return "Allow-Events";
    case 'r': return "Refer-To";
    case 'b': return "Referred-By";
    default: return name;
    }
}

bool isToken(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (c <= 32 || c >= 127 || c == ':' || c == '(' || c == ')' || c == '<' || c == '>' || c == '@' ||
            c == ',' || c == ';' || c == '\\' || c == '"' || c == '/' || c == '[' || c == ']' || c == '?' ||
            c == '=' || c == '{' || c == '}')
            return false;
    return true;
}

std::optional<std::size_t> parseLength(std::string_view v) {
    v = trim(v);
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
    return n;
}

// The header block: lines after the start line up to the empty line; folded lines
// (leading whitespace) are joined to the previous one.
struct Head {
    std::string_view startLine;
    std::vector<std::pair<std::string, std::string>> headers;
};

Head parseHead(std::string_view head) {
    Head h;
    auto eol = head.find("\r\n");
    h.startLine = head.substr(0, eol);
    std::size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        if (end == std::string_view::npos) end = head.size();
        std::string_view line = head.substr(pos, end - pos);
        pos = end + 2;
        if (line.empty()) continue;
        if (line.front() == ' ' || line.front() == '\t') {
            if (h.headers.empty()) throw SipParseError("continuation line before any header");
            auto& value = h.headers.back().second;
            if (!value.empty()) value += ' ';
            value += trim(line);
            value = std::string(trim(value)); // a fold after an empty value must not lead with a space
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) throw SipParseError("header line without ':'");
        auto name = trim(line.substr(0, colon));
        if (!isToken(name)) throw SipParseError("bad header name");
        if (h.headers.size() >= kMaxSipHeaders) throw SipParseError("too many headers");
        h.headers.emplace_back(std::string(expandCompact(name)), std::string(trim(line.substr(colon + 1))));
    }
    return h;
}

} // namespace

std::optional<std::string_view> SipMessage::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> SipMessage::headersNamed(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) out.emplace_back(v);
    return out;
}

long SipMessage::cseq() const {
    auto v = header("CSeq");
    if (!v) return -1;
    auto s = trim(*v);
    long n = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || n < 0) return -1;
    return n;
}

std::string SipMessage::cseqMethod() const {
    auto v = header("CSeq");
    if (!v) return {};
    auto s = trim(*v);
    auto sp = s.find_first_of(" \t");
    if (sp == std::string_view::npos) return {};
    return std::string(trim(s.substr(sp)));
}

std::optional<std::size_t> frameLength(std::string_view stream) {
    std::size_t crlf = 0;
    while (crlf + 1 < stream.size() && stream[crlf] == '\r' && stream[crlf + 1] == '\n') crlf += 2;
    if (crlf > 0) return crlf; // RFC 5626 keep-alive CRLFs: consumed as their own "message"
    auto end = stream.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (stream.size() > kMaxSipMessage) throw SipParseError("message head larger than 64 KiB");
        return std::nullopt;
    }
    std::size_t headLen = end + 4;
    std::optional<std::size_t> contentLength;
    std::size_t pos = stream.find("\r\n");
    while (pos < end) {
        std::size_t next = stream.find("\r\n", pos + 2);
        auto line = stream.substr(pos + 2, next - pos - 2);
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            auto name = trim(line.substr(0, colon));
            if (iequals(name, "Content-Length") || iequals(name, "l")) {
                contentLength = parseLength(line.substr(colon + 1));
                if (!contentLength) throw SipParseError("malformed Content-Length");
            }
        }
        pos = next;
    }
    if (!contentLength) throw SipParseError("no Content-Length on a stream transport");
    if (*contentLength > kMaxSipMessage || headLen + *contentLength > kMaxSipMessage)
        throw SipParseError("message larger than 64 KiB");
    if (stream.size() < headLen + *contentLength) return std::nullopt;
    return headLen + *contentLength;
}

SipMessage parseSipMessage(std::string_view text) {
    if (text.size() > kMaxSipMessage) throw SipParseError("message larger than 64 KiB");
    auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) throw SipParseError("no empty line after the headers");
    auto head = parseHead(text.substr(0, end + 2));
    std::string_view body = text.substr(end + 4);

    SipMessage m;
    auto start = head.startLine;
    if (start.substr(0, 8) == "SIP/2.0 ") {
        auto rest = start.substr(8);
        if (rest.size() < 3) throw SipParseError("truncated status line");
        int code = 0;
        auto [p, ec] = std::from_chars(rest.data(), rest.data() + 3, code);
        if (ec != std::errc() || p != rest.data() + 3 || code < 100 || code > 699)
            throw SipParseError("bad status code");
        if (rest.size() > 3 && rest[3] != ' ') throw SipParseError("bad status line");
        m.status = code;
        m.reason = std::string(rest.size() > 4 ? rest.substr(4) : std::string_view{});
    } else {
        auto sp1 = start.find(' ');
        auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
        if (sp2 == std::string_view::npos || start.substr(sp2 + 1) != "SIP/2.0")
            throw SipParseError("bad request line");
        m.request = true;
        m.method = std::string(start.substr(0, sp1));
        m.uri = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
        if (!isToken(m.method) || m.uri.empty()) throw SipParseError("bad request line");
    }
    m.headers = std::move(head.headers);
    if (auto cl = m.header("Content-Length")) {
        auto n = parseLength(*cl);
        if (!n) throw SipParseError("malformed Content-Length");
        if (*n > body.size()) throw SipParseError("body shorter than Content-Length");
        body = body.substr(0, *n); // a datagram may carry padding after the body
    }
    for (const char* required : {"Via", "From", "To", "Call-ID", "CSeq"})
        if (!m.header(required)) throw SipParseError(std::string("missing ") + required);
    if (m.cseq() < 0 || m.cseqMethod().empty()) throw SipParseError("malformed CSeq");
    m.body = std::string(body);
    return m;
}

std::optional<std::string> headerParam(std::string_view value, std::string_view name) {
    // Parameters after the URI: skip a <...> part so URI parameters are not taken.
    std::size_t from = 0;
    if (auto gt = value.find('>'); gt != std::string_view::npos && value.find('<') < gt) from = gt + 1;
    std::size_t pos = value.find(';', from);
    while (pos != std::string_view::npos) {
        std::size_t next = pos + 1;
        bool quoted = false;
        while (next < value.size() && (quoted || (value[next] != ';' && value[next] != ','))) {
            if (value[next] == '"') quoted = !quoted;
            ++next;
        }
        auto param = trim(value.substr(pos + 1, next - pos - 1));
        auto eq = param.find('=');
        auto pname = trim(param.substr(0, eq));
        if (iequals(pname, name)) {
            if (eq == std::string_view::npos) return std::string();
            auto v = trim(param.substr(eq + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return std::string(v);
        }
        if (next >= value.size() || value[next] == ',') break;
        pos = next;
    }
    return std::nullopt;
}

std::optional<SipUri> parseSipUri(std::string_view value) {
    auto scheme = value.find("sip:");
    if (scheme == std::string_view::npos) return std::nullopt;
    auto rest = value.substr(scheme + 4);
    rest = rest.substr(0, rest.find_first_of(">;? \t")); // URI parameters and what follows
    SipUri u;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        u.user = std::string(rest.substr(0, at));
        rest.remove_prefix(at + 1);
    }
    auto colon = rest.find(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
        auto digits = rest.substr(colon + 1);
        int port = 0;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec == std::errc() && p == digits.data() + digits.size() && port > 0 && port <= 65535) u.port = port;
    }
    return u;
}

std::vector<std::string> splitHeaderList(std::string_view value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    bool quoted = false, inAngle = false;
    for (std::size_t i = 0; i <= value.size() && out.size() < kMaxSipHeaders; ++i) {
        char c = i < value.size() ? value[i] : ',';
        if (c == '"' && !inAngle) quoted = !quoted;
        else if (c == '<' && !quoted) inAngle = true;
        else if (c == '>' && !quoted) inAngle = false;
        else if (c == ',' && ((!quoted && !inAngle) || i == value.size())) {
            auto item = trim(value.substr(start, i - start));
            if (!item.empty()) out.emplace_back(item);
            start = i + 1;
        }
    }
    return out;
}

std::vector<std::string> routeSet(const SipMessage& m, bool reverse) {
    std::vector<std::string> out;
    for (auto v : m.headersNamed("Record-Route"))
        for (auto& r : splitHeaderList(v))
            if (out.size() < kMaxSipHeaders) out.push_back(std::move(r));
    if (reverse) std::reverse(out.begin(), out.end());
    return out;
}

std::optional<std::string> nameAddrUri(std::string_view value) {
    std::string_view uri;
    auto open = value.find('<');
    if (open != std::string_view::npos) {
        auto close = value.find('>', open);
        if (close == std::string_view::npos) return std::nullopt;
        uri = trim(value.substr(open + 1, close - open - 1));
    } else {
        uri = trim(value.substr(0, value.find(';')));
    }
    if (!(uri.size() > 4 && iequals(uri.substr(0, 4), "sip:")) && !(uri.size() > 5 && iequals(uri.substr(0, 5), "sips:")))
        return std::nullopt;
    return std::string(uri);
}

std::string buildResponse(const SipMessage& req, int status, std::string_view reason, std::string_view toTag,
                          const std::vector<std::pair<std::string, std::string>>& extra, std::string_view body) {
    std::string out = "SIP/2.0 " + std::to_string(status) + " ";
    out += reason;
    out += "\r\n";
    for (auto via : req.headersNamed("Via")) {
        out += "Via: ";
        out += via;
        out += "\r\n";
    }
    for (const char* name : {"From", "To", "Call-ID", "CSeq"}) {
        std::string value(req.header(name).value_or(""));
        if (std::string_view(name) == "To" && !toTag.empty() && !headerParam(value, "tag")) {
            value += ";tag=";
            value += toTag;
        }
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    for (const auto& [n, v] : extra) out += n + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

std::string buildRequest(std::string_view method, std::string_view uri,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
    std::string out(method);
    out += ' ';
    out += uri;
    out += " SIP/2.0\r\n";
    for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

std::vector<std::pair<std::string, std::string>> parseKeyValueBody(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos < body.size() && out.size() < kMaxSipHeaders) {
        auto end = body.find('\n', pos);
        if (end == std::string_view::npos) end = body.size();
        auto line = trim(body.substr(pos, end - pos));
        pos = end + 1;
        auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        out.emplace_back(text::toLower(trim(line.substr(0, eq))), std::string(trim(line.substr(eq + 1))));
    }
    return out;
}

} // namespace labcm::phone
