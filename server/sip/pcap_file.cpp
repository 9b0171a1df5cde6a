#include "sip/pcap_file.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace labcm::sip {

namespace {

constexpr std::size_t kMaxSegment = 65000; ///< TCP payload per packet: IP's 65,535 minus headers
constexpr int kSnapLength = 65535;

struct Address {
    int family = 0;
    std::array<std::uint8_t, 16> bytes{};
    std::size_t size() const { return family == AF_INET ? 4 : 16; }
};

bool parse(std::string_view text, Address& out) {
    std::string s(text);
    if (s.find(':') == std::string::npos) {
        out.family = AF_INET;
        return ::inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1;
    }
    if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct); // a zone index
    out.family = AF_INET6;
    return ::inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1;
}

void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
    put16(b, at, v >> 16);
    put16(b, at + 2, v & 0xffff);
}

/// The ones' complement sum of RFC 1071, over [from, from+len) added to `sum`.
std::uint32_t sum16(const std::uint8_t* p, std::size_t len, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (len % 2) sum += static_cast<std::uint32_t>(p[len - 1] << 8);
    return sum;
}

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

} // namespace

std::unique_ptr<PcapFile> PcapFile::memory() {
    std::unique_ptr<PcapFile> f(new PcapFile);
    f->pcap_ = pcap_open_dead(DLT_RAW, kSnapLength);
    f->stream_ = open_memstream(&f->memory_, &f->memorySize_);
    if (!f->pcap_ || !f->stream_) throw std::runtime_error("cannot start a pcap in memory");
    f->dumper_ = pcap_dump_fopen(f->pcap_, f->stream_);
    if (!f->dumper_) throw std::runtime_error(std::string("cannot start a pcap: ") + pcap_geterr(f->pcap_));
    f->stream_ = nullptr; // the dumper owns it now
    f->bytes_ = 24;       // the file header
    return f;
}

std::unique_ptr<PcapFile> PcapFile::file(const std::string& path) {
    std::unique_ptr<PcapFile> f(new PcapFile);
    f->pcap_ = pcap_open_dead(DLT_RAW, kSnapLength);
    if (!f->pcap_) throw std::runtime_error("cannot start a pcap");
    f->dumper_ = pcap_dump_open(f->pcap_, path.c_str());
    if (!f->dumper_) throw std::runtime_error("cannot write " + path + ": " + pcap_geterr(f->pcap_));
    f->bytes_ = 24;
    return f;
}

PcapFile::~PcapFile() {
    finish();
    std::free(memory_);
}

std::string PcapFile::finish() {
    if (dumper_) pcap_dump_close(dumper_), dumper_ = nullptr; // flushes and closes the FILE
    if (stream_) std::fclose(stream_), stream_ = nullptr;
    if (pcap_) pcap_close(pcap_), pcap_ = nullptr;
    std::string out;
    if (memory_) {
        out.assign(memory_, memorySize_);
        std::free(memory_);
        memory_ = nullptr;
    }
    return out;
}

bool PcapFile::write(const PcapPacket& p) {
    if (!dumper_) return false;
    Address src, dst;
    if (!parse(p.srcAddress, src) || !parse(p.dstAddress, dst) || src.family != dst.family) return false;
    if (!p.tcp) {
        dump(p, p.payload.substr(0, kMaxSegment), 0, 0);
        return true;
    }
    auto key = [](std::string_view a, std::uint16_t ap, std::string_view b, std::uint16_t bp) {
        return std::string(a) + ' ' + std::to_string(ap) + '>' + std::string(b) + ' ' + std::to_string(bp);
    };
    auto& seq = nextSeq_.try_emplace(key(p.srcAddress, p.srcPort, p.dstAddress, p.dstPort), 1).first->second;
    auto& ack = nextSeq_.try_emplace(key(p.dstAddress, p.dstPort, p.srcAddress, p.srcPort), 1).first->second;
    std::string_view rest = p.payload;
    do {
        auto piece = rest.substr(0, kMaxSegment);
        dump(p, piece, seq, ack);
        seq += static_cast<std::uint32_t>(piece.size());
        rest.remove_prefix(piece.size());
    } while (!rest.empty());
    return true;
}

void PcapFile::dump(const PcapPacket& p, std::string_view payload, std::uint32_t seq, std::uint32_t ack) {
    Address src, dst;
    parse(p.srcAddress, src);
    parse(p.dstAddress, dst);
    const bool v4 = src.family == AF_INET;
    const std::size_t ipLen = v4 ? 20 : 40;
    const std::size_t l4Len = p.tcp ? 20 : 8;
    std::vector<std::uint8_t> b(ipLen + l4Len + payload.size(), 0);
    const std::uint8_t proto = p.tcp ? 6 : 17;
    const std::size_t l4Total = l4Len + payload.size();
    if (v4) {
        b[0] = 0x45;
        put16(b, 2, static_cast<std::uint32_t>(b.size()));
        put16(b, 4, static_cast<std::uint32_t>(packets_ & 0xffff)); // identification
        b[6] = 0x40;                                                 // don't fragment
        b[8] = 64;
        b[9] = proto;
        std::memcpy(&b[12], src.bytes.data(), 4);
        std::memcpy(&b[16], dst.bytes.data(), 4);
        put16(b, 10, fold(sum16(b.data(), 20)));
    } else {
        b[0] = 0x60;
        put16(b, 4, static_cast<std::uint32_t>(l4Total));
        b[6] = proto;
        b[7] = 64;
        std::memcpy(&b[8], src.bytes.data(), 16);
        std::memcpy(&b[24], dst.bytes.data(), 16);
    }
    const std::size_t l4 = ipLen;
    put16(b, l4, p.srcPort);
    put16(b, l4 + 2, p.dstPort);
    if (p.tcp) {
        put32(b, l4 + 4, seq);
        put32(b, l4 + 8, ack);
        b[l4 + 12] = 5 << 4;  // data offset: 5 words
        b[l4 + 13] = 0x18;    // PSH, ACK
        put16(b, l4 + 14, 65535);
    } else {
        put16(b, l4 + 4, static_cast<std::uint32_t>(l4Total));
    }
    std::memcpy(&b[l4 + l4Len], payload.data(), payload.size());
    // Checksum over the pseudo-header (addresses, protocol, length) and the segment.
    std::uint32_t sum = sum16(src.bytes.data(), src.size());
    sum = sum16(dst.bytes.data(), dst.size(), sum);
    sum += proto + static_cast<std::uint32_t>(l4Total & 0xffff) + static_cast<std::uint32_t>(l4Total >> 16);
    sum = sum16(&b[l4], l4Total, sum);
    auto check = fold(sum);
    if (!p.tcp && check == 0) check = 0xffff; // UDP: 0 means "no checksum"
    put16(b, l4 + (p.tcp ? 16 : 6), check);

    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(p.timeUs / 1'000'000);
    h.ts.tv_usec = static_cast<suseconds_t>(p.timeUs % 1'000'000);
    h.caplen = h.len = static_cast<bpf_u_int32>(b.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, b.data());
    bytes_ += 16 + b.size();
    ++packets_;
}

} // namespace labcm::sip
