#include "tftp/policy.h"

#include <fmt/format.h>

#include "core/limits.h"

namespace labcm::tftp {

namespace {

Admission refuse(EventKind kind, ErrorCode code, std::string message, std::string reason,
                 provision::FileResult file = {}) {
    Admission a;
    a.file = std::move(file);
    a.code = code;
    a.message = std::move(message);
    a.kind = kind;
    a.reason = std::move(reason);
    return a;
}

} // namespace

Admission admit(const Request& req, Load load, provision::FileNamespace& files) {
    if (req.op == Opcode::Wrq) return refuse(EventKind::FileRefused, ErrorCode::AccessViolation, "writes are not allowed", "WRQ refused");
    if (req.mode != "octet" && req.mode != "netascii")
        return refuse(EventKind::FileRefused, ErrorCode::IllegalOperation, "unsupported mode", fmt::format("mode '{}'", req.mode));
    auto r = files.resolve(req.filename);
    using Kind = provision::FileResult::Kind;
    auto reason = r.reason;
    switch (r.kind) {
    case Kind::NotFound: return refuse(EventKind::FileNotFound, ErrorCode::FileNotFound, "File not found", reason, std::move(r));
    case Kind::Refused: return refuse(EventKind::FileRefused, ErrorCode::AccessViolation, "Access violation", reason, std::move(r));
    case Kind::Error: return refuse(EventKind::FileFailed, ErrorCode::NotDefined, "internal error", reason, std::move(r));
    case Kind::Rendered:
    case Kind::File: break;
    }
    // Only a transfer takes a slot: not-found and refused answers are one datagram each.
    if (load.transfers >= limits::kTftpMaxTransfers)
        return refuse(EventKind::FileRefused, ErrorCode::NotDefined, "server busy, retry",
                      fmt::format("{} transfers already running", load.transfers), std::move(r));
    if (load.fromSource >= limits::kTftpMaxTransfersPerSource)
        return refuse(EventKind::FileRefused, ErrorCode::NotDefined, "server busy, retry",
                      fmt::format("{} transfers from this address already running", load.fromSource), std::move(r));
    if (req.mode == "netascii" && r.kind == Kind::File && r.file.size > limits::kTftpMaxNetasciiFile)
        return refuse(EventKind::FileRefused, ErrorCode::IllegalOperation, "file too large for netascii, use octet",
                      "netascii of a large file", std::move(r));
    Admission a;
    a.serve = true;
    a.file = std::move(r);
    return a;
}

} // namespace labcm::tftp
