#include "http/phone_handler.h"

#include <boost/beast/core.hpp>

#include "http/url.h"

namespace labcm::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

template <class Body>
void commonHeaders(bhttp::response<Body>& res, bool keepAlive) {
    res.set(bhttp::field::server, "labcm/" LABCM_VERSION);
    res.set(bhttp::field::cache_control, "no-store");
    res.keep_alive(keepAlive);
}

bhttp::message_generator textResponse(bhttp::status status, std::string body, unsigned version, bool keepAlive,
                                      bool head) {
    bhttp::response<bhttp::string_body> res{status, version};
    commonHeaders(res, keepAlive);
    res.set(bhttp::field::content_type, "text/plain");
    res.body() = head ? std::string() : std::move(body) + "\n";
    res.prepare_payload();
    return res;
}

} // namespace

std::optional<std::string> requestedName(const PhoneRequest& req, Outcome& out) {
    const std::string method(req.method_string());
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
        out = {405, std::string(req.target()), "", "method not allowed", 0, EventKind::FileRefused, method};
        return std::nullopt;
    }
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    auto decoded = urlDecode(target, false);
    if (!decoded) {
        out = {400, std::string(target), "", "malformed %-escape", 0, EventKind::FileRefused, method};
        return std::nullopt;
    }
    out.method = method;
    out.name = *decoded;
    return decoded;
}

PhoneResponse earlyAnswer(const PhoneRequest& req, const Outcome& out) {
    const bool keepAlive = req.keep_alive();
    const bool head = req.method() == bhttp::verb::head;
    if (out.status == 405) {
        bhttp::response<bhttp::string_body> res{bhttp::status::method_not_allowed, req.version()};
        commonHeaders(res, keepAlive);
        res.set(bhttp::field::allow, "GET, HEAD");
        res.prepare_payload();
        return {std::move(res), std::nullopt};
    }
    return {textResponse(bhttp::status::bad_request, "malformed request target", req.version(), keepAlive, head), std::nullopt};
}

PhoneResponse respondWith(const PhoneRequest& req, provision::FileResult r, Outcome& out) {
    const bool keepAlive = req.keep_alive();
    const bool head = req.method() == bhttp::verb::head;
    out.mac = r.mac;
    out.reason = r.reason;
    using Kind = provision::FileResult::Kind;
    switch (r.kind) {
    case Kind::NotFound:
        out.status = 404;
        out.kind = EventKind::FileNotFound;
        return {textResponse(bhttp::status::not_found, "not found", req.version(), keepAlive, head), std::nullopt};
    case Kind::Refused:
        out.status = 400;
        out.kind = EventKind::FileRefused;
        return {textResponse(bhttp::status::bad_request, "refused: " + r.reason, req.version(), keepAlive, head), std::nullopt};
    case Kind::Error:
        out.status = 500;
        out.kind = EventKind::FileFailed;
        return {textResponse(bhttp::status::internal_server_error, "internal error", req.version(), keepAlive, head),
                std::nullopt};
    case Kind::Rendered: {
        out.status = 200;
        out.bytes = head ? 0 : r.body.size();
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
        commonHeaders(res, keepAlive);
        res.set(bhttp::field::content_type, r.contentType);
        res.content_length(r.body.size());
        if (!head) res.body() = std::move(r.body);
        return {std::move(res), std::nullopt};
    }
    case Kind::File: break;
    }
    // The headers only; the bytes follow with sendfile (the session), straight from the page cache.
    out.status = 200;
    out.bytes = head ? 0 : r.file.size;
    bhttp::response<bhttp::empty_body> res{bhttp::status::ok, req.version()};
    commonHeaders(res, keepAlive);
    res.set(bhttp::field::content_type, r.contentType);
    res.content_length(r.file.size);
    return {std::move(res), head ? std::nullopt : std::optional<provision::FoundFile>(r.file)};
}

PhoneResponse respondToPhone(const PhoneRequest& req, provision::FileNamespace& files, Outcome& out) {
    auto name = requestedName(req, out);
    if (!name) return earlyAnswer(req, out);
    return respondWith(req, files.resolve(*name), out);
}

bhttp::message_generator malformedRequest() {
    return textResponse(bhttp::status::bad_request, "bad request", 11, false, false);
}

} // namespace labcm::http
