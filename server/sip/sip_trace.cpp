#include "sip/sip_trace.h"

#include <algorithm>
#include <cctype>
#include <arpa/inet.h>
#include <unistd.h>

#include <ctime>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "sip/pcap_file.h"

namespace labcm::sip {

namespace {

constexpr std::size_t kEndedKept = 16;   ///< ended captures whose status is still answered

std::optional<std::string> hexMacAt(std::string_view text, std::size_t at) {
    if (at + 12 > text.size()) return std::nullopt;
    std::string mac(text.substr(at, 12));
    for (auto& c : mac) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return mac;
}

/// labcm's end of a packet with `peer`: the configured address, the loopback to a loopback.
std::string localFor(const std::string& peer, const std::string& configured) {
    const bool v6 = peer.find(':') != std::string::npos;
    if (peer.starts_with("127.")) return "127.0.0.1";
    if (peer == "::1") return "::1";
    if (!configured.empty() && (configured.find(':') != std::string::npos) == v6) return configured;
    return v6 ? "::" : "0.0.0.0";
}

/// The packet of a kept message; `me` must outlive it.
PcapPacket packetOf(const TracedMessage& m, const std::string& me, std::uint16_t myPort) {
    PcapPacket p;
    p.timeUs = m.timeUs;
    p.tcp = m.tcp;
    p.payload = m.text;
    if (m.sent) {
        p.srcAddress = me, p.srcPort = myPort, p.dstAddress = m.address, p.dstPort = m.port;
    } else {
        p.srcAddress = m.address, p.srcPort = m.port, p.dstAddress = me, p.dstPort = myPort;
    }
    return p;
}

} // namespace

std::optional<std::string> macInMessage(std::string_view text) {
    // Only the headers: a body (an SDP, a remotecc XML) names no sender.
    text = text.substr(0, text.find("\r\n\r\n"));
    static constexpr std::string_view kInstance = "urn:uuid:00000000-0000-0000-0000-";
    static constexpr std::string_view kDeviceName = "devicename.ccm.cisco.com=\"SEP";
    if (auto at = text.find(kInstance); at != std::string_view::npos)
        if (auto mac = hexMacAt(text, at + kInstance.size())) return mac;
    if (auto at = text.find(kDeviceName); at != std::string_view::npos)
        if (auto mac = hexMacAt(text, at + kDeviceName.size())) return mac;
    return std::nullopt;
}

std::int64_t stampTime(int secondOfDay, int micros, std::chrono::system_clock::time_point now) {
    // sofia stamps su_now() modulo a day: UTC (its NTP epoch is a whole number of days away).
    const std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::int64_t stamped = t - t % 86400 + secondOfDay;
    if (stamped > t + 3600) stamped -= 86400; // written just before midnight, read just after
    return stamped * 1'000'000 + micros;
}

struct SipTrace::Capture {
    CaptureStatus status;
    std::unique_ptr<PcapFile> file;
    std::chrono::steady_clock::time_point deadline;
    std::uint64_t maxBytes = 0;

    void end(std::string why) {
        if (status.done) return;
        status.done = true;
        status.stopped = std::move(why);
        status.packets = file->packets();
        status.bytes = file->bytes();
        file->finish();
    }
};

SipTrace::SipTrace(TraceLimits limits) : limits_(limits) {}

SipTrace::~SipTrace() {
    if (writing_.valid()) writing_.wait();
}

/// A journal record's message, bytes: above anything the trace keeps (a TCP piece given up
/// is at most 64 KiB plus one read).
constexpr std::size_t kMaxJournalRecord = 16u << 20;

// --- the journal ---------------------------------------------------------------------------
// One record per message: "M <seq> <time_us> <s|r><t|u>[x] <MAC> <address> <port> <size>\n" (x: not whole),
// the message's bytes, "\n".

std::size_t readJournal(std::string_view data, const std::function<void(TracedMessage, std::string mac)>& sink) {
    std::size_t pos = 0;
    while (pos < data.size()) {
        auto nl = data.find('\n', pos);
        if (nl == std::string_view::npos || nl - pos > 200) break;
        std::string line(data.substr(pos, nl - pos));
        TracedMessage m;
        char flags[4] = {};
        char mac[13] = {};
        char address[65] = {};
        unsigned long long seq = 0, size = 0;
        long long time = 0;
        unsigned port = 0;
        int used = 0;
        if (std::sscanf(line.c_str(), "M %llu %lld %3s %12s %64s %u %llu%n", &seq, &time, flags, mac, address, &port, &size, &used) != 7 ||
            static_cast<std::size_t>(used) != line.size() || port > 65535 || size > kMaxJournalRecord || (flags[0] != 's' && flags[0] != 'r') ||
            (flags[1] != 't' && flags[1] != 'u') || (flags[2] != 0 && flags[2] != 'x') || std::strlen(mac) != 12)
            break;
        const auto dataAt = nl + 1;
        if (data.size() - dataAt < size + 1 || data[dataAt + size] != '\n') break;
        m.seq = seq;
        m.timeUs = time;
        m.sent = flags[0] == 's';
        m.tcp = flags[1] == 't';
        m.truncated = flags[2] == 'x';
        m.address = address;
        m.port = static_cast<std::uint16_t>(port);
        m.text.assign(data.substr(dataAt, size));
        sink(std::move(m), mac);
        pos = dataAt + size + 1;
    }
    return pos;
}

std::size_t SipTrace::persistTo(const std::filesystem::path& path, std::chrono::hours maxAge) {
    std::lock_guard lock(mutex_);
    maxAge_ = maxAge;
    journalPath_ = path;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::string data;
    if (std::FILE* in = std::fopen(path.c_str(), "rb")) {
        char buf[64 * 1024];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) data.append(buf, n);
        std::fclose(in);
    }
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto oldest = maxAge.count() > 0 ? now - std::chrono::duration_cast<std::chrono::microseconds>(maxAge).count() : 0;
    if (enabled())
        readJournal(data, [&](TracedMessage m, std::string mac) {
            if (m.timeUs >= oldest) file(std::move(m), std::move(mac)); // numbered afresh, in the journal's order
        });
    changed_ = false;
    lastSnapshot_ = std::chrono::steady_clock::now();
    return liveCount_;
}

void writeJournal(const std::filesystem::path& path,
                  const std::vector<std::pair<std::shared_ptr<const TracedMessage>, std::string>>& messages) {
    auto tmp = path;
    tmp += ".new";
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    for (const auto& [kept, mac] : messages) {
        const auto& m = *kept;
        std::fprintf(out, "M %llu %lld %c%c%s %s %s %u %zu\n", static_cast<unsigned long long>(m.seq), static_cast<long long>(m.timeUs),
                     m.sent ? 's' : 'r', m.tcp ? 't' : 'u', m.truncated ? "x" : "", mac.c_str(), m.address.c_str(), static_cast<unsigned>(m.port),
                     m.text.size());
        std::fwrite(m.text.data(), 1, m.text.size(), out);
        std::fputc('\n', out);
    }
    // On the disk before it replaces the old one (a power cut leaves one or the other, whole).
    const bool ok = std::fflush(out) == 0 && !std::ferror(out) && ::fsync(::fileno(out)) == 0;
    std::fclose(out);
    std::error_code ec;
    if (!ok) {
        std::filesystem::remove(tmp, ec);
        throw std::runtime_error("cannot write " + tmp.string() + " (disk full?)");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw std::runtime_error("cannot replace " + path.string() + ": " + ec.message());
}

void SipTrace::snapshot(bool idle, bool wait) {
    try {
        // The last write first, outside the lock (writing_ is this thread's alone).
        if (writing_.valid()) {
            if (!wait && writing_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return; // still writing
            writing_.get();
        }
        std::vector<std::pair<std::shared_ptr<const TracedMessage>, std::string>> all;
        std::filesystem::path path;
        {
            std::lock_guard lock(mutex_);
            if (writeFailed_.exchange(false)) changed_ = true; // tried again
            const auto now = std::chrono::steady_clock::now();
            if (journalPath_.empty() || !changed_) return;
            // A quiet lab: at most every kSnapshotGap; a steady load: every kSnapshotEvery.
            if (!wait && now - lastSnapshot_ < (idle ? kSnapshotGap : kSnapshotEvery)) return;
            all.reserve(liveCount_);
            for (const auto& [mac, ring] : rings_)
                for (const auto& m : ring.messages) all.emplace_back(m, mac);
            changed_ = false;
            lastSnapshot_ = now;
            path = journalPath_;
        }
        std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first->seq < b.first->seq; });
        writing_ = std::async(std::launch::async, [this, path, all = std::move(all)]() mutable {
            try {
                writeJournal(path, all);
            } catch (const std::exception& e) {
                spdlog::warn("sip trace: the journal was not written: {}", e.what());
                writeFailed_ = true;
            }
            // Written: the messages the trace dropped since go now, not when the next
            // snapshot replaces this future (the lambda lives as long as it).
            decltype(all)().swap(all);
        });
        if (wait) writing_.get();
    } catch (const std::exception& e) { // no memory or no thread for it: the trace goes on in memory
        spdlog::warn("sip trace: no snapshot of the journal: {}", e.what());
        writeFailed_ = true;
    }
}

void SipTrace::setLocal(std::string address, std::uint16_t port) {
    std::lock_guard lock(mutex_);
    // Only an address literal goes into a packet (a host name would make every packet unwritable).
    unsigned char bytes[16];
    if (address == "0.0.0.0" || address == "::" ||
        (::inet_pton(AF_INET, address.c_str(), bytes) != 1 && ::inet_pton(AF_INET6, address.c_str(), bytes) != 1))
        address.clear();
    localAddress_ = std::move(address);
    localPort_ = port;
}

void SipTrace::add(WireRecord r, std::int64_t timeUs) {
    // A keep-alive (CRLFs) or a STUN binding is no SIP message: not kept.
    if (r.bytes.empty() || !std::isalpha(static_cast<unsigned char>(r.bytes.front()))) return;
    TracedMessage m;
    m.timeUs = timeUs;
    m.sent = r.sent;
    m.tcp = r.tcp;
    m.truncated = r.truncated;
    m.address = std::move(r.address);
    m.port = r.port;
    m.text = std::move(r.bytes);
    std::lock_guard lock(mutex_);
    writeCaptures(m, std::chrono::steady_clock::now());
    if (!enabled()) return;
    Peer peer{m.address, m.port, m.tcp};
    std::optional<std::string> mac;
    // What a phone sent names it (its REGISTER's Contact); what labcm sends may carry
    // another phone's (a forwarded INVITE keeps the caller's Contact): filed by address.
    if (!m.sent) mac = macInMessage(m.text);
    if (mac) {
        if (macAt_.size() >= kMaxAddresses && !macAt_.contains(peer)) macAt_.clear();
        macAt_.insert_or_assign(std::move(peer), *mac);
    } else if (auto it = macAt_.find(peer); it != macAt_.end()) {
        mac = it->second;
    }
    if (mac) file(std::move(m), std::move(mac));
}

void SipTrace::file(TracedMessage m, std::optional<std::string> mac) {
    m.seq = nextSeq_++;
    auto& ring = rings_[*mac];
    const auto cost = m.text.size() + m.address.size() + kMessageOverhead;
    ring.bytes += cost;
    totalBytes_ += cost;
    ++liveCount_;
    order_.emplace_back(m.seq, *mac);
    changed_ = true;
    ring.messages.push_back(std::make_shared<const TracedMessage>(std::move(m)));
    while (ring.messages.size() > limits_.perPhone) popFront(ring);
    // Over the total: the oldest message of the whole trace goes, whoever's it is.
    while (totalBytes_ > limits_.totalBytes && !order_.empty()) {
        auto [seq, owner] = std::move(order_.front());
        order_.pop_front();
        auto it = rings_.find(owner);
        if (it == rings_.end()) continue;
        if (!it->second.messages.empty() && it->second.messages.front().seq == seq) popFront(it->second);
        if (it->second.messages.empty()) rings_.erase(it);
    }
    // order_ also holds messages a phone's own cap already dropped: rebuild it when those
    // are the most, so it stays within twice the messages kept.
    if (order_.size() > 2 * liveCount_ + 1024) {
        std::erase_if(order_, [this](const auto& entry) {
            auto it = rings_.find(entry.second);
            return it == rings_.end() || it->second.messages.empty() || entry.first < it->second.messages.front().seq;
        });
    }
}

void SipTrace::popFront(Ring& ring) {
    const auto cost = ring.messages.front().text.size() + ring.messages.front().address.size() + kMessageOverhead;
    ring.bytes -= cost;
    totalBytes_ -= cost;
    --liveCount_;
    ring.messages.pop_front();
}

std::vector<TracedMessage> SipTrace::messages(const std::string& mac) const {
    std::lock_guard lock(mutex_);
    auto it = rings_.find(mac);
    if (it == rings_.end()) return {};
    std::int64_t oldest = 0;
    if (maxAge_.count() > 0)
        oldest = std::chrono::duration_cast<std::chrono::microseconds>(
                     (std::chrono::system_clock::now() - maxAge_).time_since_epoch())
                     .count();
    std::vector<TracedMessage> out;
    for (const auto& m : it->second.messages)
        if (m->timeUs >= oldest) out.push_back(*m);
    return out;
}

std::vector<TracedMessage> SipTrace::newest(const std::string& mac, std::size_t budget, bool* cut) const {
    auto list = messages(mac);
    std::size_t used = 0, first = list.size();
    while (first > 0 && used + list[first - 1].text.size() <= budget) used += list[--first].text.size();
    if (cut) *cut = first > 0;
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(first));
    return list;
}

std::string SipTrace::pcap(const std::string& mac, std::size_t budget, std::size_t* count) const {
    auto list = newest(mac, budget);
    if (count) *count = list.size();
    std::string local;
    std::uint16_t localPort = 0;
    {
        std::lock_guard lock(mutex_);
        local = localAddress_;
        localPort = localPort_;
    }
    auto out = PcapFile::memory();
    for (const auto& m : list) {
        const auto me = localFor(m.address, local);
        out->write(packetOf(m, me, localPort));
    }
    return out->finish();
}

void SipTrace::writeCaptures(const TracedMessage& m, std::chrono::steady_clock::time_point now) {
    for (auto& c : captures_) {
        if (c->status.done) continue;
        if (now >= c->deadline) {
            c->end("time");
            continue;
        }
        const auto me = localFor(m.address, localAddress_);
        c->file->write(packetOf(m, me, localPort_));
        if (c->file->bytes() >= c->maxBytes) c->end("size");
    }
}

CaptureStatus SipTrace::startCapture(const std::string& name, const std::string& path, std::chrono::seconds seconds,
                                     std::uint64_t maxBytes) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    std::size_t running = 0;
    for (auto& c : captures_) {
        if (!c->status.done && now >= c->deadline) c->end("time");
        running += c->status.done ? 0 : 1;
    }
    if (running >= kMaxCaptures)
        throw CaptureBusy(std::to_string(running) + " captures are running already; wait until one ends");
    auto c = std::make_unique<Capture>();
    c->status.name = name;
    c->status.path = path;
    c->file = PcapFile::file(path);
    c->deadline = now + seconds;
    c->maxBytes = maxBytes;
    auto status = c->status;
    captures_.push_back(std::move(c));
    // Keep the running ones and the last kEndedKept ended ones.
    std::size_t ended = 0;
    for (auto it = captures_.rbegin(); it != captures_.rend(); ++it) ended += (*it)->status.done ? 1 : 0;
    for (auto it = captures_.begin(); ended > kEndedKept && it != captures_.end();) {
        if ((*it)->status.done) {
            it = captures_.erase(it);
            --ended;
        } else {
            ++it;
        }
    }
    return status;
}

std::optional<CaptureStatus> SipTrace::capture(const std::string& name) {
    std::lock_guard lock(mutex_);
    for (auto& c : captures_) {
        if (c->status.name != name) continue;
        if (!c->status.done && std::chrono::steady_clock::now() >= c->deadline) c->end("time");
        auto s = c->status;
        if (!s.done) s.packets = c->file->packets(), s.bytes = c->file->bytes();
        return s;
    }
    return std::nullopt;
}

std::uint64_t SipTrace::messagesKept() const {
    std::lock_guard lock(mutex_);
    return liveCount_;
}

std::uint64_t SipTrace::bytesKept() const {
    std::lock_guard lock(mutex_);
    return totalBytes_;
}

} // namespace labcm::sip
