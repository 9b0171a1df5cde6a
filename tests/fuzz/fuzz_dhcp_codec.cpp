// Fuzz the DHCP codec. Properties: a packet that parses serialises to at least 300 bytes
// that parse again to the same header fields and options; helpers never throw anything
// but ParseError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "dhcp/codec.h"

using namespace labcm::dhcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    try {
        auto p = parse(in);
        auto bytes = serialize(p);
        if (bytes.size() < 300) std::abort();
        auto q = parse(bytes);
        if (q.xid != p.xid || q.op != p.op || q.mac() != p.mac() || q.yiaddr != p.yiaddr || q.giaddr != p.giaddr)
            std::abort();
        if (q.options.size() != p.options.size()) std::abort();
        for (std::size_t i = 0; i < p.options.size(); ++i)
            if (q.options[i].code != p.options[i].code || q.options[i].data != p.options[i].data) std::abort();
        if (auto* t = p.find(opt::TftpServers)) {
            try {
                (void)ipv4List(t->data);
            } catch (const ParseError&) {
            }
        }
        if (auto* v = p.find(opt::VendorClass)) (void)modelFromVendorClass(std::string(v->data.begin(), v->data.end()));
    } catch (const ParseError&) {
    }
    return 0;
}
