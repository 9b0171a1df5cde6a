#include "http/phone_handler.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include <boost/beast/core.hpp>
#include <fmt/format.h>

#include "http/multipart.h"
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

namespace {

/// A file mapped read-only for as long as it lives (an empty file maps to an empty view).
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) return;
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || st.st_size == 0) return;
        void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd_, 0);
        if (p == MAP_FAILED) return;
        data_ = static_cast<const char*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
    }
    ~MappedFile() {
        if (data_) ::munmap(const_cast<char*>(data_), size_);
        if (fd_ >= 0) ::close(fd_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    bool ok() const { return fd_ >= 0; }
    std::string_view view() const { return {data_ ? data_ : "", size_}; }

private:
    int fd_ = -1;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

/// "SEP001122AABBCC" (any case) -> "001122AABBCC"; nullopt for anything else.
std::optional<std::string> reportMac(const std::string& devicename) {
    if (devicename.size() != 15 || (devicename.compare(0, 3, "SEP") != 0 && devicename.compare(0, 3, "sep") != 0)) return std::nullopt;
    std::string mac = devicename.substr(3);
    for (auto& c : mac) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return mac;
}

} // namespace

PhoneResponse receiveReport(const PhoneRequest& req, const std::filesystem::path& body,
                            provision::ProblemReports& reports, std::chrono::system_clock::time_point now, Outcome& out) {
    const bool keepAlive = req.keep_alive();
    out.method = std::string(req.method_string());
    out.name = std::string(req.target());
    out.kind = EventKind::FileRefused;
    auto refuse = [&](bhttp::status status, std::string reason) -> PhoneResponse {
        reports.discard(body);
        out.status = static_cast<unsigned>(status);
        out.reason = reason;
        return {textResponse(status, "refused: " + reason, req.version(), keepAlive, false), std::nullopt};
    };
    auto boundary = formBoundary(req[bhttp::field::content_type]);
    if (!boundary) return refuse(bhttp::status::unsupported_media_type, "not a multipart/form-data upload");
    MappedFile file(body);
    if (!file.ok()) return refuse(bhttp::status::internal_server_error, "the upload's temporary file is gone");
    auto parts = parseForm(file.view(), *boundary);
    if (!parts) return refuse(bhttp::status::bad_request, "a malformed multipart/form-data body");
    std::string devicename, serial;
    const FormPart* archive = nullptr;
    for (const auto& p : *parts) {
        if (p.name == "devicename") devicename = formValue(p.content);
        else if (p.name == "serialno") serial = formValue(p.content);
        else if (p.name == "prt_file") archive = &p;
    }
    auto mac = reportMac(devicename);
    if (!mac) return refuse(bhttp::status::forbidden, fmt::format("devicename '{}' is not SEP<MAC>", devicename.substr(0, 32)));
    out.mac = *mac;
    if (!archive) return refuse(bhttp::status::bad_request, "no prt_file part");
    try {
        const auto offset = static_cast<std::uint64_t>(archive->content.data() - file.view().data());
        auto stored = reports.store(*mac, body, offset, archive->content.size(), now);
        out.status = 200;
        out.kind = EventKind::ProblemReport;
        out.name = stored.name;
        out.bytes = stored.size;
        out.reason = fmt::format("problem report from SEP{}{}", *mac, serial.empty() ? "" : ", serial number " + serial.substr(0, 32));
        return {textResponse(bhttp::status::ok, "stored " + stored.name, req.version(), keepAlive, false), std::nullopt};
    } catch (const std::exception& e) {
        return refuse(bhttp::status::internal_server_error, std::string("cannot store it: ") + e.what());
    }
}

bhttp::message_generator uploadRefused(bool tooLarge, unsigned version) {
    return tooLarge ? textResponse(bhttp::status::payload_too_large, "refused: a problem report larger than the limit", version, false, false)
                    : textResponse(bhttp::status::bad_request, "refused: the upload was cut short", version, false, false);
}

bhttp::message_generator malformedRequest() {
    return textResponse(bhttp::status::bad_request, "bad request", 11, false, false);
}

} // namespace labcm::http
