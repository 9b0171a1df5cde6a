// Fuzz the multipart/form-data parser a phone's problem report goes through (issue 22): the
// Content-Type and the body from the input. Properties: every part is a view inside the body,
// in order, never more than kMaxFormParts; the boundary is 1-70 characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/multipart.h"

using namespace labcm::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto split = in.find('\n');
    auto contentType = in.substr(0, split);
    auto body = split == std::string_view::npos ? std::string_view{} : in.substr(split + 1);
    auto boundary = formBoundary(contentType);
    if (!boundary) return 0;
    if (boundary->empty() || boundary->size() > 70) std::abort();
    auto parts = parseForm(body, *boundary);
    if (!parts) return 0;
    if (parts->size() > kMaxFormParts) std::abort();
    const char* last = body.data();
    for (const auto& p : *parts) {
        if (p.content.data() < last || p.content.data() + p.content.size() > body.data() + body.size()) std::abort();
        last = p.content.data() + p.content.size();
        (void)formValue(p.content);
    }
    return 0;
}
