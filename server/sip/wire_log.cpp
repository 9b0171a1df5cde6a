#include "sip/wire_log.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace labcm::sip {

namespace {

/// A message put back together is at most this long (sofia logs at most 80 pieces of one).
constexpr std::size_t kMaxMessage = 1 << 20;

bool eat(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

template <typename T>
bool number(std::string_view& s, T& out, std::size_t maxDigits = 20) {
    std::size_t n = 0;
    while (n < s.size() && n < maxDigits && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
    if (n == 0) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + n, out);
    if (ec != std::errc{} || p != s.data() + n) return false;
    s.remove_prefix(n);
    return true;
}

} // namespace

std::optional<WireRecord> parseStamp(std::string_view line, std::size_t& size) {
    WireRecord r;
    std::string_view s = line;
    if (eat(s, "recv "))
        r.sent = false;
    else if (eat(s, "send "))
        r.sent = true;
    else
        return std::nullopt;
    if (!number(s, size) || !eat(s, " bytes ")) return std::nullopt;
    if (!eat(s, r.sent ? "to " : "from ")) return std::nullopt;
    if (eat(s, "udp/["))
        r.tcp = false;
    else if (eat(s, "tcp/["))
        r.tcp = true;
    else
        return std::nullopt;
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 0 || close > 64) return std::nullopt;
    r.address.assign(s.substr(0, close));
    if (r.address.find_first_not_of("0123456789abcdefABCDEF.:%") != std::string::npos) return std::nullopt;
    s.remove_prefix(close + 1);
    unsigned port = 0;
    if (!eat(s, ":") || !number(s, port, 5) || port > 65535) return std::nullopt;
    r.port = static_cast<std::uint16_t>(port);
    // A flow label (/N) or ;comp=sigcomp may follow before " at ".
    auto at = s.find(" at ");
    if (at == std::string_view::npos) return std::nullopt;
    s.remove_prefix(at + 4);
    unsigned h = 0, m = 0, sec = 0, us = 0;
    if (!number(s, h, 2) || !eat(s, ":") || !number(s, m, 2) || !eat(s, ":") || !number(s, sec, 2) || !eat(s, ".") ||
        !number(s, us, 6) || s != ":")
        return std::nullopt;
    if (h > 23 || m > 59 || sec > 60) return std::nullopt;
    r.secondOfDay = static_cast<int>(std::min(h * 3600 + m * 60 + sec, 86399u));
    r.micros = static_cast<int>(us);
    return r;
}

bool LoggedMessage::start(std::string_view stamp) {
    active_ = false;
    while (!stamp.empty() && (stamp.back() == '\n' || stamp.back() == '\r')) stamp.remove_suffix(1);
    std::size_t size = 0;
    auto r = parseStamp(stamp, size);
    if (!r) return false;
    auto buffer = std::move(record_.bytes);
    record_ = std::move(*r);
    record_.bytes = std::move(buffer);
    record_.bytes.clear();
    record_.bytes.reserve(std::min(size, kMaxMessage));
    declared_ = size;
    bodyAt_ = lineStart_ = bodyLines_ = lines_ = 0;
    active_ = true;
    return true;
}

void LoggedMessage::piece(std::string_view text) {
    if (!active_ || record_.truncated) return; // full: nothing after the gap
    if (record_.bytes.size() + text.size() > kMaxMessage) {
        record_.truncated = true;
        return;
    }
    record_.bytes.append(text);
}

void LoggedMessage::lineEnd() {
    if (!active_ || record_.truncated) return;
    if (record_.bytes.size() + 2 > kMaxMessage) {
        record_.truncated = true;
        return;
    }
    const bool empty = record_.bytes.size() == lineStart_;
    record_.bytes.append("\r\n");
    ++lines_;
    if (bodyAt_ > 0)
        ++bodyLines_;
    else if (empty)
        bodyAt_ = record_.bytes.size();
    lineStart_ = record_.bytes.size();
}

const WireRecord* LoggedMessage::finish() {
    if (!active_) return nullptr;
    active_ = false;
    auto& b = record_.bytes;
    // Every end of line went in as CRLF. Not the declared size: the body's were LF, or all were.
    auto toLf = [&b](std::size_t from) {
        std::size_t out = from;
        for (std::size_t i = from; i < b.size(); ++i)
            if (!(b[i] == '\r' && i + 1 < b.size() && b[i + 1] == '\n')) b[out++] = b[i];
        b.resize(out);
    };
    if (b.size() != declared_) {
        if (bodyAt_ > 0 && b.size() - bodyLines_ == declared_)
            toLf(bodyAt_);
        else if (b.size() - lines_ == declared_)
            toLf(0);
    }
    if (b.size() != declared_) record_.truncated = true; // cut short, or its ends of line not found again
    return &record_;
}

} // namespace labcm::sip
