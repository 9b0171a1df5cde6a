// Fuzz the Cisco header parsers (Reason, Contact parameters, User-Agent) with what a phone,
// or anything pretending to be one, sends. Properties: stored Reason values carry no control
// characters or edge whitespace, an identified device is a 12-hex MAC, parameter lists stay bounded.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sip/cisco.h"

using namespace labcm::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string s(reinterpret_cast<const char*>(data), size);
    auto reason = parseReasonHeader(s);
    if (auto t = parseCiscoReasonText(s)) reason = t;
    if (reason) {
        // What is stored: no control characters, no surrounding whitespace.
        for (const auto* v : {&reason->activeLoad, &reason->inactiveLoad, &reason->name, &reason->last}) {
            for (char c : *v)
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();
            if (!v->empty() && (std::isspace(static_cast<unsigned char>(v->front())) ||
                                std::isspace(static_cast<unsigned char>(v->back()))))
                std::abort();
        }
    }
    auto params = parseContactParamList(s);
    if (params.size() > 64) std::abort();
    auto contact = parseContactParams(params);
    if (auto mac = identifyDevice(contact, reason)) {
        if (mac->size() != 12) std::abort();
        for (char c : *mac)
            if (!std::isxdigit(static_cast<unsigned char>(c))) std::abort();
    }
    (void)parseCiscoUserAgent(s);
    (void)parsePhoneAction(s);
    (void)isBulkRegister(s);
    return 0;
}
