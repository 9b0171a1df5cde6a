// Fuzz labcm-phone's SIP text codec. Properties: framing never claims more bytes than it
// has nor less than a head; a message that parses keeps its body within the input and
// re-parses the same after a response is built from it; helpers never throw; a header list
// splits into non-empty pieces of the value, at most kMaxSipHeaders of them; a dialog's
// route set for the caller is the callee's reversed; a name-addr's URI is a sip: piece of it.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cctype>
#include <string>
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
            (void)parseSipUri(value);
        }
        auto uas = routeSet(m, false);
        auto uac = routeSet(m, true);
        if (uas.size() != uac.size() || !std::equal(uas.begin(), uas.end(), uac.rbegin())) std::abort();
    } catch (const SipParseError&) {
    }
    {
        auto pieces = splitHeaderList(in);
        if (pieces.size() > kMaxSipHeaders) std::abort();
        for (const auto& p : pieces)
            if (p.empty() || in.find(p) == std::string_view::npos) std::abort();
        if (auto uri = nameAddrUri(in)) {
            std::string scheme = uri->substr(0, 5);
            for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (!(scheme.starts_with("sip:") || scheme == "sips:") || in.find(*uri) == std::string_view::npos) std::abort();
        }
    }
    (void)parseKeyValueBody(in);
    (void)parseDigestChallenge(in);
    return 0;
}
