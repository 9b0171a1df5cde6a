#include "sip/wire_dump.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace labcm::sip {

namespace {

/// A stamp line is ~80 characters (an IPv6 address with a flow label at most ~120); a line
/// this long without its newline is not one.
constexpr std::size_t kMaxStampLine = 512;

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

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

} // namespace

std::optional<WireRecord> parseStamp(std::string_view line, std::size_t& size) {
    WireRecord r;
    std::string_view s = line;
    if (eat(s, "recv "))
        r.sent = false;
    else if (eat(s, "sent "))
        r.sent = true;
    else if (eat(s, "send "))
        r.sent = r.logged = true;
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

void WireDumpParser::feed(std::string_view data) {
    buf_.append(data);
    while (step()) {
    }
    buf_.erase(0, pos_);
    pos_ = 0;
}

bool WireDumpParser::step() {
    const std::size_t avail = buf_.size() - pos_;
    if (avail == 0) return false;
    auto nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
        if (avail <= kMaxStampLine) return false;
        ++dropped_; // a line this long is no stamp: drop it
        pos_ = buf_.size();
        return false;
    }
    std::string_view line(buf_.data() + pos_, nl - pos_);
    std::size_t size = 0;
    auto record = parseStamp(line, size);
    if (!record) {
        if (!line.empty() && !line.starts_with("dump started at ")) ++dropped_;
        pos_ = nl + 1;
        return true;
    }
    if (size > maxRecord_) {
        ++dropped_; // its data is read as lines, which are no stamps
        pos_ = nl + 1;
        return true;
    }
    const std::size_t dataAt = nl + 1;
    const std::size_t have = buf_.size() - dataAt;
    auto emit = [&](std::size_t length, std::size_t next, bool truncated) {
        record->bytes = std::string_view(buf_.data() + dataAt, length);
        record->truncated = truncated;
        ++records_;
        sink_(*record);
        pos_ = next;
        return true;
    };
    // Whole: the "\v\n" right after the declared size (labcm's own records always are).
    if (have >= size + 2 && buf_.compare(dataAt + size, 2, "\v\n") == 0) return emit(size, dataAt + size + 2, false);
    if (!record->logged) {
        // Cut short: sofia 1.12.11 declares a read's or a write's whole size but writes only
        // its first piece (LoggedMessage), then "\v\n" and the next stamp. The record ends at
        // the first "\v\n" that a stamp follows.
        for (auto end = buf_.find("\v\n", dataAt); end != std::string::npos && end - dataAt < size;
             end = buf_.find("\v\n", end + 1)) {
            auto next = end + 2;
            auto nextNl = buf_.find('\n', next);
            if (nextNl == std::string::npos) {
                if (have >= size + 2) break;
                return false; // the line after it is not all here yet
            }
            std::string_view following(buf_.data() + next, nextNl - next);
            std::size_t ignored = 0;
            if (parseStamp(following, ignored) || following.starts_with("dump started at ")) return emit(end - dataAt, next, true);
        }
    }
    if (have < size + 2) return false; // the data and its "\v\n" are not all here yet
    ++dropped_; // no "\v\n" where it belongs: take the declared size and go on
    return emit(size, dataAt + size, false);
}

std::optional<std::size_t> contentLength(std::string_view headers) {
    std::size_t start = 0;
    while (start < headers.size()) {
        auto end = headers.find('\n', start);
        if (end == std::string_view::npos) end = headers.size();
        auto line = headers.substr(start, end - start);
        start = end + 1;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || line.empty() || line[0] == ' ' || line[0] == '\t') continue;
        auto name = trim(line.substr(0, colon));
        if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
        auto value = trim(line.substr(colon + 1));
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || p != value.data() + value.size()) return std::nullopt;
        return n;
    }
    return std::nullopt;
}

bool LoggedMessage::start(std::string_view stamp) {
    active_ = false;
    lines_.clear();
    current_.clear();
    while (!stamp.empty() && (stamp.back() == '\n' || stamp.back() == '\r')) stamp.remove_suffix(1);
    std::size_t size = 0;
    auto r = parseStamp(stamp, size);
    if (!r || !r->logged) return false;
    stamp_.assign(stamp);
    declared_ = size;
    active_ = true;
    return true;
}

void LoggedMessage::piece(std::string_view text) {
    if (active_) current_.append(text);
}

void LoggedMessage::lineEnd() {
    if (!active_) return;
    lines_.push_back(std::move(current_));
    current_.clear();
}

std::string LoggedMessage::finish() {
    if (!active_) return {};
    active_ = false;
    if (!current_.empty()) lines_.push_back(std::move(current_));
    current_.clear();
    // Headers up to the empty line with CRLF; the body with CRLF, or LF if that is the size.
    std::string head;
    std::size_t i = 0;
    for (; i < lines_.size(); ++i) {
        head += lines_[i];
        head += "\r\n";
        if (lines_[i].empty()) {
            ++i;
            break;
        }
    }
    auto body = [&](std::string_view eol) {
        std::string b;
        for (std::size_t j = i; j < lines_.size(); ++j) {
            b += lines_[j];
            if (j + 1 < lines_.size() || head.size() + b.size() + eol.size() <= declared_) b += eol;
        }
        return b;
    };
    std::string data = head + body("\r\n");
    if (data.size() != declared_) {
        if (auto lf = head + body("\n"); lf.size() == declared_) data = std::move(lf);
    }
    lines_.clear();
    // The declared size becomes the real one: the parser reads exactly that many bytes.
    auto bytesAt = stamp_.find(' ');
    auto bytesEnd = stamp_.find(' ', bytesAt + 1);
    return stamp_.substr(0, bytesAt + 1) + std::to_string(data.size()) + stamp_.substr(bytesEnd) + "\n" + data + "\v\n";
}

void SipStreamSplitter::feed(std::string_view data, const std::function<void(std::string_view)>& sink) {
    buf_.append(data);
    while (true) {
        if (bodyAt_ == 0) {
            while (start_ < buf_.size() && (buf_[start_] == '\r' || buf_[start_] == '\n')) ++start_, scanned_ = start_; // keep-alives
            if (start_ == buf_.size()) break;
            // Search only what was not searched before (a header end may straddle two feeds).
            auto from = std::max(start_, scanned_ >= 3 ? scanned_ - 3 : 0);
            auto end = buf_.find("\r\n\r\n", from);
            if (end == std::string::npos) {
                scanned_ = buf_.size();
                if (buf_.size() - start_ > max_) giveUp(sink); // no header end within a message's size
                break;
            }
            auto length = contentLength(std::string_view(buf_).substr(start_, end - start_)).value_or(0);
            const std::size_t head = end + 4 - start_;
            if (length > max_ || head > max_ - length) { // over the bound (no overflow: both are checked)
                giveUp(sink);
                break;
            }
            bodyAt_ = end + 4;
            length_ = length;
        }
        if (buf_.size() - bodyAt_ < length_) break; // the body is not all here yet
        sink(std::string_view(buf_).substr(start_, bodyAt_ + length_ - start_));
        start_ = scanned_ = bodyAt_ + length_;
        bodyAt_ = length_ = 0;
    }
    buf_.erase(0, start_);
    if (bodyAt_) bodyAt_ -= start_;
    scanned_ -= std::min(scanned_, start_);
    start_ = 0;
}

void SipStreamSplitter::giveUp(const std::function<void(std::string_view)>& sink) {
    sink(std::string_view(buf_).substr(start_));
    start_ = scanned_ = buf_.size();
    bodyAt_ = length_ = 0;
}

} // namespace labcm::sip
