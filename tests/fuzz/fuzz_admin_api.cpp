// Fuzz the admin API's request mapping (method, target, content type and body from the
// input). Properties: only ApiError is thrown; a mapped request names a command of the
// route table with an object of arguments; url decoding never reads past its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/admin_api.h"

using namespace labcm::admin;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string in(reinterpret_cast<const char*>(data), size);
    // "METHOD target\ncontent-type\nbody..."
    auto sp = in.find(' ');
    auto nl1 = in.find('\n');
    auto nl2 = nl1 == std::string::npos ? std::string::npos : in.find('\n', nl1 + 1);
    std::string method = in.substr(0, sp == std::string::npos ? 0 : sp);
    std::string target = sp == std::string::npos ? in : in.substr(sp + 1, nl1 == std::string::npos ? std::string::npos : nl1 - sp - 1);
    std::string type = nl1 == std::string::npos ? "" : in.substr(nl1 + 1, nl2 == std::string::npos ? std::string::npos : nl2 - nl1 - 1);
    std::string body = nl2 == std::string::npos ? "" : in.substr(nl2 + 1);
    try {
        auto m = mapRequest(method, target, type, body);
        if (!m.route) std::abort();
        if (m.request.at("cmd").as_string() != m.route->command) std::abort();
        if (!m.request.at("args").is_object()) std::abort();
        (void)replyStatus(m.request, *m.route);
    } catch (const ApiError& e) {
        if (e.status < 400 || e.status > 499) std::abort();
    }
    (void)urlDecode(target, true);
    (void)queryParam(target, "filter");
    return 0;
}
