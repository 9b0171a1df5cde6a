#include "http/admin_http.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iterator>
#include <array>
#include <deque>
#include <filesystem>
#include <optional>
#include <vector>

#include <sodium.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/connection_caps.h"
#include "core/limits.h"
#include "http/admin_api.h"
#include "http/admin_auth.h"
#include "http/http_common.h"
#include "provision/firmware_import.h"
#include "store/admin_store.h"

namespace labcm::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kCookie = "labcm_session";

std::string contentTypeOf(const std::string& name) {
    if (name.ends_with(".html")) return "text/html; charset=utf-8";
    if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
    if (name.ends_with(".css")) return "text/css; charset=utf-8";
    if (name.ends_with(".svg")) return "image/svg+xml";
    return "application/octet-stream";
}

std::string cookieValue(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto semi = header.find(';');
        auto part = header.substr(0, semi);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=')
            return std::string(part.substr(name.size() + 1));
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return {};
}

json::object errorBody(unsigned status, std::string_view code, std::string_view field, std::string_view message) {
    return {{"ok", false}, {"error", {{"status", status}, {"code", code}, {"field", field}, {"message", message}}}};
}

std::string eventJson(const Event& e) {
    return json::serialize(json::object{
        {"seq", e.seq},
        {"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(e.time.time_since_epoch()).count()},
        {"mac", e.mac},
        {"ip", e.ip},
        {"service", toString(e.service)},
        {"kind", toString(e.kind)},
        {"severity", toString(e.severity)},
        {"detail", e.detail}});
}

} // namespace

class Connection;

struct AdminHttpServer::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context& io_, AdminDeps deps_)
        : io(io_), acceptor(io_), deps(std::move(deps_)), ping(io_), pause(io_) {}

    asio::io_context& io;
    tcp::acceptor acceptor;
    AdminDeps deps;
    Sessions sessions{limits::kAdminSessionIdle, limits::kAdminMaxSessions};
    LoginLimiter limiter{limits::kAdminLoginFailures, limits::kAdminLoginWindow, 4096};
    asio::thread_pool hasher{1};
    int verifying = 0;
    bool uploading = false; ///< one package upload (and its import) at a time
    net::ConnectionCaps connections{limits::kMaxAdminConnections, limits::kAdminConnectionsPerAddress};
    std::vector<std::weak_ptr<Connection>> streams;
    /// streams.size() for other threads: with no live page, an event is neither formatted nor
    /// posted (a phone's every request is an event). Raised before a new stream reads the
    /// ring, so an event that saw 0 here is in the ring it reads.
    std::atomic<std::size_t> listening{0};
    EventBus::Subscription sub;
    asio::steady_timer ping;
    asio::steady_timer pause; ///< accepting waits on it while no descriptor is left
    bool stopped = false;

    void doAccept();
    void broadcast(const std::string& message);
    void armPing();
    std::size_t liveStreams();
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, std::shared_ptr<AdminHttpServer::Impl> impl, net::AdmittedConnection admitted)
        : stream_(std::move(socket)), impl_(std::move(impl)), admitted_(std::move(admitted)), ip_(http::peerAddress(stream_)) {}

    ~Connection() { endUpload(); }

    void start() { doRead(); }

    // --- Server-Sent Events -------------------------------------------------------------
    /// @brief Queues one SSE message; a client that falls too far behind is dropped (it
    /// reconnects and reloads).
    void push(const std::string& message) {
        if (!streaming_ || closed_) return;
        queuedBytes_ += message.size();
        if (queuedBytes_ > limits::kSseMaxQueueBytes) {
            spdlog::warn("admin: live stream to {} fell {} bytes behind; closed (the page reconnects)", ip_, queuedBytes_);
            return close();
        }
        queue_.push_back(message);
        if (!writing_) writeQueued();
    }
    bool streaming() const { return streaming_ && !closed_; }
    void close() {
        if (closed_) return;
        closed_ = true;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    // The header first: a request that needs a session and has none is answered 401 before
    // its body is read (a stranger cannot make labcm buffer megabytes), and each route gets
    // its own body limit.
    void doRead() {
        parser_.emplace();
        parser_->header_limit(limits::kHttpHeaderLimit);
        // The largest any route takes, so a Content-Length is refused here only when no route
        // takes it; onHeader applies the route's own limit.
        parser_->body_limit(limits::kAdminUploadLimit);
        bodyLimit_ = limits::kAdminUploadLimit;
        stream_.expires_after(limits::kHttpIdleTimeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
    }

    void onHeader(beast::error_code ec) {
        if (http::clientWentAway(ec) || ec) return onRead(ec);
        const auto& head = parser_->get();
        std::string_view target = head.target();
        const auto p = target.substr(0, target.find('?'));
        const bool open = !p.starts_with("/api") || p == "/api/health" || p == "/api/login";
        if (!open && !impl_->sessions.touch(cookieValue(head[bhttp::field::cookie], kCookie), Clock::now())) {
            keepAlive_ = false; // the body, if any, is never read: the connection ends with the answer
            req_ = parser_->release();
            return sendJson(401, errorBody(401, "unauthorized", "", "log in first (POST /api/login)"));
        }
        if (const Route* upload = uploadRoute(head.method_string(), target)) return startUpload(*upload);
        bodyLimit_ = p == "/api/import" ? limits::kAdminBodyLimit
                     : p == "/api/login" ? limits::kAdminLoginBodyLimit
                                         : limits::kAdminApiBodyLimit;
        // beast checks a Content-Length against the limit as the header is parsed, before the
        // route is known: checked here, and the limit set for a chunked body.
        if (auto length = parser_->content_length(); length && *length > bodyLimit_) return onRead(bhttp::error::body_limit);
        parser_->body_limit(bodyLimit_);
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code e, std::size_t) { self->onRead(e); });
    }

    void onRead(beast::error_code ec) {
        if (http::clientWentAway(ec)) return close();
        if (ec) {
            unsigned status = ec == bhttp::error::body_limit ? 413 : 400;
            keepAlive_ = false;
            return sendJson(status, errorBody(status, status == 413 ? "too_large" : "bad_request", "",
                                              status == 413 ? fmt::format("the body is over {} bytes", bodyLimit_)
                                                            : "malformed HTTP request"));
        }
        req_ = parser_->release();
        keepAlive_ = req_.keep_alive();
        try {
            route();
        } catch (const ApiError& e) {
            sendJson(e.status, errorBody(e.status, e.code, e.field, e.message));
        } catch (const std::exception& e) {
            spdlog::error("admin: {} {}: {}", std::string(req_.method_string()), std::string(req_.target()), e.what());
            sendJson(500, errorBody(500, "internal", "", "internal error"));
        }
    }

    std::string path() const {
        std::string_view t = req_.target();
        return std::string(t.substr(0, t.find('?')));
    }

    std::optional<Session> session() {
        auto token = cookieValue(req_[bhttp::field::cookie], kCookie);
        if (token.empty()) return std::nullopt;
        auto s = impl_->sessions.touch(token, Clock::now());
        if (s) token_ = token;
        return s;
    }

    // A write needs the session's CSRF token in X-CSRF-Token, and a same-origin Origin when sent.
    bool writeAllowed(const Session& s) { return writeAllowed(s, req_); }
    bool writeAllowed(const Session& s, const bhttp::fields& head) {
        if (!equalTokens(head["X-CSRF-Token"], s.csrf)) {
            sendJson(403, errorBody(403, "csrf", "X-CSRF-Token", "missing or wrong X-CSRF-Token header"));
            return false;
        }
        auto origin = head[bhttp::field::origin];
        if (!origin.empty() && origin != "http://" + std::string(head[bhttp::field::host]) &&
            origin != "https://" + std::string(head[bhttp::field::host])) {
            sendJson(403, errorBody(403, "origin", "Origin", "cross-origin request refused"));
            return false;
        }
        return true;
    }

    void route() {
        const auto p = path();
        const auto method = req_.method();
        if (!p.starts_with("/api") && p != "/metrics") return staticFile(p);
        if (p == "/api/health") {
            if (!impl_->deps.ready()) return sendJson(503, json::object{{"status", "starting"}, {"ready", false}});
            return sendJson(200, json::object{{"status", "ok"}, {"ready", true}});
        }
        if (p == "/metrics") return sendText(200, "text/plain; version=0.0.4", impl_->deps.metrics());
        if (p == "/api/login") {
            if (method != bhttp::verb::post) throw ApiError{405, "method_not_allowed", "", "POST the password"};
            return login();
        }
        auto s = session();
        if (!s) return sendJson(401, errorBody(401, "unauthorized", "", "log in first (POST /api/login)"));
        if (p == "/api/session") return sendJson(200, json::object{{"user", s->user}, {"csrf", s->csrf}});
        if (p == "/api/logout") {
            if (method != bhttp::verb::post) throw ApiError{405, "method_not_allowed", "", "POST to log out"};
            if (!writeAllowed(*s)) return;
            impl_->sessions.remove(token_);
            return sendJson(200, json::object{{"ok", true}}, fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kCookie));
        }
        if (p == "/api" || p == "/api/") {
            json::array out;
            for (const auto& r : routes())
                out.push_back({{"method", r.method}, {"path", r.pattern}, {"command", r.command}, {"summary", r.summary}});
            return sendJson(200, json::object{{"routes", std::move(out)}});
        }
        if (p == "/api/events/stream") return startStream();
        auto mapped = mapRequest(std::string(req_.method_string()), req_.target(), req_[bhttp::field::content_type], req_.body());
        if (mapped.route->body == Body::File) throw ApiError{400, "bad_request", "", "an upload is read by startUpload"};
        if (mapped.route->write && !writeAllowed(*s)) return;
        const Route* r = mapped.route;
        impl_->deps.commands.execute(mapped.request, [self = shared_from_this(), r](json::object reply) {
            auto status = replyStatus(reply, *r);
            if (status < 300 && r->command == "export")
                return self->sendText(200, "text/csv; charset=utf-8", std::string(reply["result"].as_object()["csv"].as_string()),
                                      "attachment; filename=\"labcm-devices.csv\"");
            if (status < 300 && r->command == "prt.get") return self->sendReport(reply["result"].as_object());
            if (status < 300 && r->command == "device.pcap") return self->sendPcap(reply["result"].as_object());
            self->sendJson(status, reply);
        });
    }

    // --- uploads (a firmware or locale package) ------------------------------------------
    // Checked on the header (session, CSRF, size, one at a time) before a byte of the body is
    // read; the body is streamed into a hidden file of the files folder, the timer restarted
    // per read (a slow link may take minutes, a stalled one is dropped), then the package's use
    // case reads that file off the io thread. The file is removed once the reply is sent.
    void startUpload(const Route& route) {
        keepAlive_ = false; // an answer before the whole body was read ends the connection
        const auto& head = parser_->get();
        req_.version(head.version());
        auto s = impl_->sessions.touch(cookieValue(head[bhttp::field::cookie], kCookie), Clock::now());
        if (!s || !writeAllowed(*s, head)) return;
        if (auto length = parser_->content_length(); length && *length > limits::kAdminUploadLimit)
            return sendJson(413, errorBody(413, "too_large", "", fmt::format("the body is over {} bytes", limits::kAdminUploadLimit)));
        if (impl_->uploading)
            return sendJson(503, errorBody(503, "busy", "", "another package is being uploaded or imported; try again when it is done"));
        try {
            uploadPath_ = provision::createUploadFile(provision::FilesDir(impl_->deps.filesDir));
        } catch (const std::exception& e) {
            return sendJson(500, errorBody(500, "internal", "", e.what()));
        }
        impl_->uploading = true;
        uploadRoute_ = &route;
        upload_.emplace(std::move(*parser_));
        upload_->body_limit(limits::kAdminUploadLimit);
        beast::error_code ec;
        upload_->get().body().open(uploadPath_.c_str(), beast::file_mode::write, ec);
        if (ec) {
            endUpload();
            return sendJson(500, errorBody(500, "internal", "", "cannot write the upload: " + ec.message()));
        }
        readUpload();
    }

    void readUpload() {
        stream_.expires_after(limits::kHttpIdleTimeout);
        bhttp::async_read_some(stream_, buffer_, *upload_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->onUploadRead(ec);
        });
    }

    void onUploadRead(beast::error_code ec) {
        if (http::clientWentAway(ec)) {
            endUpload();
            return close();
        }
        if (ec) {
            endUpload();
            if (ec == bhttp::error::body_limit)
                return sendJson(413, errorBody(413, "too_large", "", fmt::format("the body is over {} bytes", limits::kAdminUploadLimit)));
            return sendJson(400, errorBody(400, "bad_request", "", "the upload did not arrive whole: " + ec.message()));
        }
        if (!upload_->is_done()) return readUpload();
        auto& msg = upload_->get();
        msg.body().close();
        keepAlive_ = msg.keep_alive();
        Mapped mapped;
        try {
            mapped = mapRequest(std::string(msg.method_string()), msg.target(), msg[bhttp::field::content_type], uploadPath_.string());
        } catch (const ApiError& e) {
            endUpload();
            return sendJson(e.status, errorBody(e.status, e.code, e.field, e.message));
        }
        stream_.expires_never(); // the import may take a while; the reply restarts the timer
        impl_->deps.commands.execute(mapped.request, [self = shared_from_this(), r = uploadRoute_](json::object reply) {
            self->endUpload();
            self->sendJson(replyStatus(reply, *r), reply);
        });
    }

    // Removes the upload's file (once: on the reply, an error or the connection's end).
    void endUpload() {
        upload_.reset();
        if (uploadPath_.empty()) return;
        std::error_code ec;
        std::filesystem::remove(uploadPath_, ec);
        uploadPath_.clear();
        impl_->uploading = false;
    }

    void staticFile(const std::string& p) {
        if (req_.method() != bhttp::verb::get && req_.method() != bhttp::verb::head)
            throw ApiError{405, "method_not_allowed", "", "the page is read-only"};
        std::string name = p == "/" ? "index.html" : p.substr(1);
        const std::string* body = webFile(name);
        if (!body) return sendText(404, "text/plain", "not found");
        sendText(200, contentTypeOf(name), *body, {}, {}, req_.method() == bhttp::verb::head);
    }

    void login() {
        const auto now = Clock::now();
        if (auto wait = impl_->limiter.wait(ip_, now); wait > Clock::duration::zero()) {
            auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1;
            extraRetryAfter_ = std::to_string(secs);
            return sendJson(429, errorBody(429, "too_many_attempts", "password",
                                           fmt::format("too many failed logins from {}; try again in {} s", ip_, secs)));
        }
        boost::system::error_code ec;
        auto body = json::parse(req_.body(), ec);
        if (ec || !body.is_object() || !body.as_object().contains("password") || !body.as_object().at("password").is_string())
            return sendJson(400, errorBody(400, "bad_request", "password", "send {\"password\": \"...\"} as JSON"));
        std::string password(body.as_object().at("password").as_string());
        auto hash = store::AdminStore(impl_->deps.reader).passwordHash("admin");
        if (!hash)
            return sendJson(503, errorBody(503, "no_password", "password",
                                           "no admin password is set: run 'labcm admin password' on the server"));
        if (impl_->verifying >= limits::kAdminMaxVerifying)
            return sendJson(503, errorBody(503, "busy", "", "too many logins at once; try again"));
        ++impl_->verifying;
        impl_->limiter.attempted(ip_, now); // counted before the check: parallel guesses count too
        asio::post(impl_->hasher, [self = shared_from_this(), hash = *hash, password = std::move(password)] {
            bool ok = verifyPassword(hash, password);
            asio::post(self->impl_->io, [self, ok] { self->loginChecked(ok); });
        });
    }

    void loginChecked(bool ok) {
        --impl_->verifying;
        if (impl_->stopped) return close();
        auto& bus = impl_->deps.bus;
        if (!ok) {
            bus.publish(Service::Admin, EventKind::AdminLogin, Severity::Warning, "", ip_, "admin login refused: wrong password");
            return sendJson(401, errorBody(401, "wrong_password", "password", "wrong password"));
        }
        impl_->limiter.succeeded(ip_);
        auto token = impl_->sessions.create("admin", Clock::now());
        auto s = impl_->sessions.touch(token, Clock::now());
        bus.publish(Service::Admin, EventKind::AdminLogin, Severity::Info, "", ip_, "admin logged in");
        sendJson(200, json::object{{"user", s->user}, {"csrf", s->csrf}},
                 fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", kCookie, token));
    }

    void startStream() {
        if (req_.method() != bhttp::verb::get) throw ApiError{405, "method_not_allowed", "", "GET the stream"};
        if (impl_->liveStreams() >= limits::kAdminMaxStreams)
            return sendJson(503, errorBody(503, "busy", "", "too many live pages open"));
        streaming_ = true;
        stream_.expires_never();
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                           "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n";
        queue_.push_back(std::move(head));
        // Resume after a reconnect: the events since Last-Event-ID still in the ring.
        std::uint64_t after = 0;
        auto last = req_["Last-Event-ID"];
        if (!last.empty()) std::from_chars(last.data(), last.data() + last.size(), after);
        impl_->listening = impl_->streams.size() + 1;
        if (after > 0)
            for (const auto& e : impl_->deps.bus.recent(after))
                queue_.push_back(fmt::format("event: log\nid: {}\ndata: {}\n\n", e.seq, eventJson(e)));
        impl_->streams.push_back(weak_from_this());
        writeQueued();
        watchClient();
    }

    // A pending read keeps the stream alive and notices when the client goes away (a page
    // sends nothing on an event stream; anything it sends is ignored).
    void watchClient() {
        stream_.socket().async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->watchClient();
        });
    }

    void writeQueued() {
        if (queue_.empty() || closed_) {
            writing_ = false;
            return;
        }
        writing_ = true;
        out_.clear();
        while (!queue_.empty()) {
            out_ += queue_.front();
            queue_.pop_front();
        }
        queuedBytes_ = 0;
        // Through the tcp_stream, so its timer bounds the write: a page that stops reading is dropped.
        stream_.expires_after(limits::kSseWriteTimeout);
        asio::async_write(stream_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->writeQueued();
        });
    }

    template <class Body>
    void headers(bhttp::response<Body>& res, const std::string& contentType) {
        res.set(bhttp::field::server, "labcm/" LABCM_VERSION);
        res.set(bhttp::field::content_type, contentType);
        res.set(bhttp::field::cache_control, "no-store");
        res.set("X-Content-Type-Options", "nosniff");
        res.set("X-Frame-Options", "DENY");
        res.set("Referrer-Policy", "no-referrer");
        res.set("Cross-Origin-Opener-Policy", "same-origin");
        res.set("Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        if (!extraRetryAfter_.empty()) res.set(bhttp::field::retry_after, extraRetryAfter_);
        res.keep_alive(keepAlive_);
    }

    // A problem report's archive (at most limits::kPrtMaxBytes), read whole: a rare admin download.
    void sendReport(const json::object& found) {
        std::ifstream in(std::string(found.at("path").as_string()), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return sendJson(500, errorBody(500, "internal", "", "cannot read the report"));
        sendText(200, "application/gzip", std::move(bytes),
                 fmt::format("attachment; filename=\"{}\"", std::string(found.at("name").as_string())));
    }

    void sendPcap(const json::object& found) {
        const auto& b64 = found.at("pcap_base64").as_string();
        std::string bytes(b64.size() / 4 * 3 + 3, '\0');
        std::size_t n = 0;
        if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), b64.data(), b64.size(), nullptr, &n,
                              nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
            return sendJson(500, errorBody(500, "internal", "", "cannot decode the pcap"));
        bytes.resize(n);
        sendText(200, "application/vnd.tcpdump.pcap", std::move(bytes),
                 fmt::format("attachment; filename=\"{}\"", std::string(found.at("name").as_string())));
    }

    void sendJson(unsigned status, const json::value& body, const std::string& cookie = {}) {
        sendText(status, "application/json", json::serialize(body), {}, cookie);
    }

    // headOnly: the headers a GET would get (Content-Length included), no body (HEAD).
    void sendText(unsigned status, const std::string& contentType, std::string body, const std::string& disposition = {},
                  const std::string& cookie = {}, bool headOnly = false) {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), req_.version() ? req_.version() : 11);
        headers(*res, contentType);
        if (!cookie.empty()) res->set(bhttp::field::set_cookie, cookie);
        if (!disposition.empty()) res->set(bhttp::field::content_disposition, disposition);
        if (headOnly) {
            res->content_length(body.size());
        } else {
            res->body() = std::move(body);
            res->prepare_payload();
        }
        extraRetryAfter_.clear();
        stream_.expires_after(limits::kHttpWriteTimeoutBase);
        bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec || !self->keepAlive_) return self->close();
            self->doRead();
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{limits::kHttpHeaderLimit};
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::optional<bhttp::request_parser<bhttp::file_body>> upload_;
    std::filesystem::path uploadPath_; ///< while an upload is read or imported
    const Route* uploadRoute_ = nullptr;
    bhttp::request<bhttp::string_body> req_;
    std::shared_ptr<AdminHttpServer::Impl> impl_;
    net::AdmittedConnection admitted_; ///< counted against the caps while the connection lives
    std::string ip_, token_, extraRetryAfter_;
    bool keepAlive_ = true;
    std::uint64_t bodyLimit_ = limits::kAdminUploadLimit; ///< the current request's
    bool streaming_ = false, writing_ = false, closed_ = false;
    std::deque<std::string> queue_;
    std::array<char, 512> sink_{};
    std::size_t queuedBytes_ = 0;
    std::string out_;
};

void AdminHttpServer::Impl::doAccept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || self->stopped) return;
        if (!ec) {
            // Over a cap (in all, or that address's): 503 at once, never left to time out.
            auto verdict = net::Admission::Admitted;
            if (auto admitted = http::admit(socket, self->connections, verdict))
                std::make_shared<Connection>(std::move(socket), self, std::move(*admitted))->start();
        }
        if (http::pauseWhenNoDescriptors(ec, self->pause, [self] {
                if (!self->stopped && self->acceptor.is_open()) self->doAccept();
            }))
            return;
        if (self->acceptor.is_open()) self->doAccept();
    });
}

std::size_t AdminHttpServer::Impl::liveStreams() {
    std::erase_if(streams, [](const auto& w) {
        auto s = w.lock();
        return !s || !s->streaming();
    });
    listening = streams.size();
    return streams.size();
}

void AdminHttpServer::Impl::broadcast(const std::string& message) {
    for (auto& w : streams)
        if (auto s = w.lock()) s->push(message);
}

void AdminHttpServer::Impl::armPing() {
    ping.expires_after(limits::kSsePingInterval);
    ping.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->stopped) return;
        if (self->liveStreams() > 0) self->broadcast(": ping\n\n");
        self->armPing();
    });
}

AdminHttpServer::AdminHttpServer(asio::io_context& io, const tcp::endpoint& endpoint, AdminDeps deps)
    : impl_(std::make_shared<Impl>(io, std::move(deps))) {
    initCrypto();
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    // Every event goes to the live pages (posted: publish may come from any thread).
    impl_->sub = impl_->deps.bus.subscribe([weak = std::weak_ptr<Impl>(impl_)](const Event& e) {
        bool passwordChanged = e.kind == EventKind::AdminPasswordChanged;
        auto self = weak.lock();
        if (!self || (self->listening == 0 && !passwordChanged)) return;
        auto message = fmt::format("event: log\nid: {}\ndata: {}\n\n", e.seq, eventJson(e));
        asio::post(self->io, [weak, message = std::move(message), passwordChanged] {
            auto s = weak.lock();
            if (!s || s->stopped) return;
            if (passwordChanged) s->sessions.clear();
            if (s->liveStreams() > 0) s->broadcast(message);
        });
    });
    impl_->doAccept();
    impl_->armPing();
}

AdminHttpServer::~AdminHttpServer() { stop(); }

void AdminHttpServer::stop() {
    if (impl_->stopped) return;
    impl_->stopped = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->ping.cancel();
    impl_->pause.cancel();
    impl_->sub.reset();
    for (auto& w : impl_->streams)
        if (auto s = w.lock()) s->close();
    impl_->streams.clear();
    impl_->hasher.join();
}

tcp::endpoint AdminHttpServer::localEndpoint() const { return impl_->acceptor.local_endpoint(); }

void AdminHttpServer::deviceChanged(const std::string& mac) {
    if (impl_->stopped || impl_->liveStreams() == 0) return;
    impl_->deps.commands.execute(json::object{{"cmd", "device.show"}, {"args", {{"device", mac}}}},
                                 [impl = impl_, mac](json::object reply) {
                                     if (reply["ok"].as_bool())
                                         impl->broadcast(fmt::format("event: device\ndata: {}\n\n", json::serialize(reply["result"])));
                                     else
                                         impl->broadcast(fmt::format("event: device_removed\ndata: {}\n\n",
                                                                     json::serialize(json::object{{"mac", mac}})));
                                 });
}

void AdminHttpServer::devicesReloaded() {
    if (impl_->stopped || impl_->liveStreams() == 0) return;
    impl_->broadcast("event: reload\ndata: {}\n\n");
}

} // namespace labcm::admin
