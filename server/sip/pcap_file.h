// SIP messages as a pcap file that Wireshark and tshark open (issue 22, item 3). libpcap
// writes the file (pcap_open_dead + pcap_dump, linktype RAW: each packet starts with its IP
// header); this file builds the IPv4/IPv6, UDP and TCP headers around each message with the
// real addresses and ports. A TCP flow gets consecutive sequence numbers per direction (no
// handshake: Wireshark follows a stream joined in the middle), so SIP over TCP is decoded.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

struct pcap;
struct pcap_dumper;

namespace labcm::sip {

struct PcapPacket {
    std::int64_t timeUs = 0; ///< system clock, microseconds since the epoch
    bool tcp = false;
    std::string_view srcAddress; ///< IPv4 or IPv6 text; both ends must be of one family
    std::uint16_t srcPort = 0;
    std::string_view dstAddress;
    std::uint16_t dstPort = 0;
    std::string_view payload;
};

class PcapFile {
public:
    /// @brief A pcap built in memory; finish() returns its bytes.
    static std::unique_ptr<PcapFile> memory();
    /// @brief A pcap written to `path` (created or truncated); throws std::runtime_error.
    static std::unique_ptr<PcapFile> file(const std::string& path);
    ~PcapFile();
    PcapFile(const PcapFile&) = delete;
    PcapFile& operator=(const PcapFile&) = delete;

    /// @brief Appends one message: one UDP datagram, or TCP segments of at most 65,000 bytes.
    /// A packet whose addresses do not parse, or are of two families, is skipped (false).
    bool write(const PcapPacket& p);
    /// @brief Closes the file; for memory(), returns its bytes (empty for file()).
    std::string finish();

    std::uint64_t bytes() const { return bytes_; }     ///< file size so far
    std::uint64_t packets() const { return packets_; }

private:
    PcapFile() = default;
    void dump(const PcapPacket& p, std::string_view payload, std::uint32_t seq, std::uint32_t ack);

    pcap* pcap_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    std::FILE* stream_ = nullptr; ///< memory(): the open_memstream
    char* memory_ = nullptr;
    std::size_t memorySize_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t packets_ = 0;
    std::map<std::string, std::uint32_t> nextSeq_; ///< per TCP direction "src port>dst port"
};

} // namespace labcm::sip
