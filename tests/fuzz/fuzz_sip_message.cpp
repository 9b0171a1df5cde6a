// Fuzz labcm-phone's SIP text codec. Properties: framing never claims more bytes than it
// has nor less than a head; a message that parses keeps its body within the input and
// re-parses the same after a response is built from it; helpers never throw.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip_message.h"
#include "wire.h"

using namespace labcm::phone;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    try {
        if (auto n = frameLength(in); n && (*n > size || *n == 0)) std::abort();
    } catch (const SipParseError&) {
    }
    try {
        auto m = parseSipMessage(in);
        if (m.body.size() > size) std::abort();
        if (m.request) {
            auto resp = parseSipMessage(buildResponse(m, 200, "OK", "tag1"));
            if (resp.status != 200 || resp.cseq() != m.cseq() || resp.header("Call-ID") != m.header("Call-ID")) std::abort();
        }
        for (const auto& [name, value] : m.headers) {
            (void)headerParam(value, "tag");
            (void)headerParam(value, "expires");
        }
    } catch (const SipParseError&) {
    }
    (void)parseKeyValueBody(in);
    (void)parseDigestChallenge(in);
    return 0;
}
