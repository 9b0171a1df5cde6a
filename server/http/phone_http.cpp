#include "http/phone_http.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "core/connection_caps.h"
#include "core/limits.h"
#include "core/thread_name.h"
#include "http/http_common.h"
#include "http/phone_handler.h"

namespace labcm::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct PhoneHttpServer::Shared {
    Shared(asio::io_context& i, provision::FileNamespace& f, EventBus& b, provision::ClientMacs& m, std::size_t total,
           std::size_t perAddress)
        : io(i), files(f), bus(b), macs(m), caps(total, perAddress) {}
    asio::io_context& io; ///< the main io thread: renders
    provision::FileNamespace& files;
    provision::ProblemReports* reports = nullptr; ///< where POSTed problem reports go (null: POST is 405)
    EventBus& bus;
    provision::ClientMacs& macs;
    net::ConnectionCaps caps; ///< open connections, in all and per address
    std::atomic<std::uint64_t> busy{0}; ///< connections answered 503 (over a cap)
    std::atomic<std::uint64_t> busyAddress{0}; ///< of those, over their address's cap
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<PhoneHttpServer::Shared> shared, net::AdmittedConnection admitted)
        : stream_(std::move(socket)), sendTimer_(stream_.get_executor()), shared_(std::move(shared)),
          admitted_(std::move(admitted)), ip_(peerAddress(stream_)) {}
    ~Session() {
        if (fd_ >= 0) ::close(fd_);
    }

    void start() { doRead(); }

private:
    // The headers first: a POST is a phone's problem report (its body goes to a file); any
    // other request with a body is refused.
    void doRead() {
        parser_.emplace();
        parser_->header_limit(limits::kHttpHeaderLimit);
        parser_->body_limit(boost::none); // a POST's size is checked in startUpload (413)
        stream_.expires_after(limits::kHttpIdleTimeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
    }

    void onHeader(beast::error_code ec) {
        if (!ec && parser_->get().method() == bhttp::verb::post && shared_->reports) return startUpload();
        if (!ec && !parser_->is_done()) ec = bhttp::error::body_limit; // a body where none belongs
        onRead(ec);
    }

    void startUpload() {
        started_ = std::chrono::steady_clock::now();
        outcome_ = Outcome{};
        uploadPath_.clear();
        upload_.emplace(std::move(*parser_));
        upload_->body_limit(limits::kPrtMaxBytes);
        beast::error_code ec;
        if (auto length = upload_->content_length(); length && *length > limits::kPrtMaxBytes)
            return onUpload(bhttp::error::body_limit); // answered before a byte of the body is read
        try {
            uploadPath_ = shared_->reports->incoming();
        } catch (const std::exception&) {
            return onUpload(boost::system::errc::make_error_code(boost::system::errc::io_error)); // disk full, no access
        }
        upload_->get().body().open(uploadPath_.c_str(), beast::file_mode::write, ec);
        if (ec) return onUpload(ec);
        stream_.expires_after(limits::kPrtUploadTimeout);
        // A client that waits for it (curl does, for a body over 1 KiB) gets 100 Continue first.
        if (beast::iequals(upload_->get()[bhttp::field::expect], "100-continue")) {
            auto go = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
            bhttp::async_write(stream_, *go, [self = shared_from_this(), go](beast::error_code e, std::size_t) {
                if (e) return self->onUpload(e);
                self->readUpload();
            });
            return;
        }
        readUpload();
    }

    void readUpload() {
        bhttp::async_read(stream_, buffer_, *upload_,
                          [self = shared_from_this()](beast::error_code e, std::size_t) { self->onUpload(e); });
    }

    void onUpload(beast::error_code ec) {
        upload_->get().body().close();
        req_ = PhoneRequest(std::move(upload_->get().base()));
        upload_.reset();
        keepAlive_ = !ec && req_.keep_alive();
        if (ec) {
            if (!uploadPath_.empty()) shared_->reports->discard(uploadPath_);
            const bool tooBig = ec == bhttp::error::body_limit;
            outcome_ = Outcome{tooBig ? 413u : 400u, std::string(req_.target()), "",
                               fmt::format("problem report upload: {}", tooBig ? "larger than the limit" : ec.message()), 0,
                               EventKind::FileRefused, "POST"};
            if (clientWentAway(ec)) {
                publish(outcome_, started_);
                return close();
            }
            return respond({uploadRefused(tooBig, req_.version()), std::nullopt}); // the event goes with the answer
        }
        respond(receiveReport(req_, uploadPath_, *shared_->reports, std::chrono::system_clock::now(), outcome_));
    }

    void onRead(beast::error_code ec) {
        if (clientWentAway(ec)) return close();
        if (ec) {
            // A malformed request: one event, one 400, then hang up.
            Outcome o{400, "", "", fmt::format("malformed request: {}", ec.message()), 0, EventKind::FileRefused};
            publish(o, std::chrono::steady_clock::now());
            auto msg = malformedRequest();
            stream_.expires_after(limits::kHttpIdleTimeout);
            beast::async_write(stream_, std::move(msg),
                               [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
            return;
        }
        started_ = std::chrono::steady_clock::now();
        req_ = parser_->release();
        keepAlive_ = req_.keep_alive();
        outcome_ = Outcome{};
        auto name = requestedName(req_, outcome_);
        if (!name) return respond(earlyAnswer(req_, outcome_));
        if (auto fast = shared_->files.resolveFast(*name)) return respond(respondWith(req_, std::move(*fast), outcome_));
        // A render: on the main io thread, which owns the namespace's renders and database reads.
        stream_.expires_after(limits::kHttpWriteTimeoutBase);
        asio::post(shared_->io, [self = shared_from_this(), name = std::move(*name)] {
            auto r = self->shared_->files.resolve(name);
            asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
                self->respond(respondWith(self->req_, std::move(r), self->outcome_));
            });
        });
    }

    void respond(PhoneResponse response) {
        file_ = std::move(response.file);
        stream_.expires_after(limits::kHttpWriteTimeoutBase + std::chrono::seconds(outcome_.bytes >> 20));
        beast::async_write(stream_, std::move(response.message), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec && self->file_) return self->sendFile();
            self->onWrite(ec);
        });
    }

    // The body of a file: sendfile(2) from the page cache, as the socket takes it.
    void sendFile() {
        fd_ = ::open(file_->path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) return onWrite(beast::error_code(errno, boost::system::system_category()));
        offset_ = 0;
        timedOut_ = false;
        stream_.socket().non_blocking(true);
        // The stream's own timeout covers only its operations: a phone that stops reading
        // is cut off by this one.
        sendTimer_.expires_after(limits::kHttpWriteTimeoutBase + std::chrono::seconds(file_->size >> 20));
        sendTimer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || !self->file_) return;
            beast::error_code ignored;
            self->stream_.socket().cancel(ignored); // the pending wait ends with operation_aborted
            self->timedOut_ = true;
        });
        sendMore();
    }

    void sendMore() {
        while (offset_ < static_cast<off_t>(file_->size)) {
            auto left = static_cast<std::size_t>(static_cast<off_t>(file_->size) - offset_);
            auto n = ::sendfile(stream_.socket().native_handle(), fd_, &offset_, std::min(left, limits::kSendfileChunk));
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                stream_.socket().async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
                    if (self->timedOut_) return self->endFile(beast::error::timeout);
                    if (ec) return self->endFile(ec);
                    self->sendMore();
                });
                return;
            }
            // 0: the file shrank under us; < 0: the client is gone.
            return endFile(n == 0 ? beast::error_code(boost::asio::error::eof)
                                  : beast::error_code(errno, boost::system::system_category()));
        }
        endFile({});
    }

    void endFile(beast::error_code ec) {
        sendTimer_.cancel();
        ::close(fd_);
        fd_ = -1;
        file_.reset();
        onWrite(ec);
    }

    void onWrite(beast::error_code ec) {
        if (ec) {
            outcome_.kind = EventKind::FileFailed;
            outcome_.reason = fmt::format("sending failed: {}", ec.message());
        }
        publish(outcome_, started_);
        if (ec || !keepAlive_) return close();
        doRead();
    }

    void publish(const Outcome& o, std::chrono::steady_clock::time_point started) {
        shared_->macs.learn(ip_, o.mac);
        std::string mac = o.mac.empty() ? shared_->macs.lookup(ip_) : o.mac;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        auto severity = o.kind == EventKind::FileServed || o.kind == EventKind::FileNotFound || o.kind == EventKind::ProblemReport
                            ? Severity::Info
                            : Severity::Warning;
        std::string detail = fmt::format("{} {} -> {} {} bytes {:.1f} ms{}{}", o.method, o.name, o.status, o.bytes,
                                         us.count() / 1000.0, o.reason.empty() ? "" : ": ", o.reason);
        shared_->bus.publish(Service::Http, o.kind, severity, mac, ip_, std::move(detail));
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    asio::steady_timer sendTimer_; ///< bounds a sendfile body
    bool timedOut_ = false;
    beast::flat_buffer buffer_{limits::kHttpHeaderLimit};
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
    std::optional<bhttp::request_parser<bhttp::file_body>> upload_; ///< a problem report's body, to uploadPath_
    std::filesystem::path uploadPath_;
    std::shared_ptr<PhoneHttpServer::Shared> shared_;
    net::AdmittedConnection admitted_; ///< counted against the caps while the session lives
    std::string ip_;
    bool keepAlive_ = true;
    PhoneRequest req_;
    Outcome outcome_;
    std::chrono::steady_clock::time_point started_;
    std::optional<provision::FoundFile> file_;
    int fd_ = -1;
    off_t offset_ = 0;
};

// Moves an accepted connection's descriptor to `to`, a socket of another io_context.
void rehome(tcp::socket from, tcp::socket& to, const tcp& protocol, beast::error_code& ec) {
    auto fd = from.release(ec);
    if (ec) return;
    to.assign(protocol, fd, ec);
    if (ec) ::close(fd);
}

} // namespace

PhoneHttpServer::PhoneHttpServer(asio::io_context& io, std::span<asio::io_context> connections, const tcp::endpoint& endpoint,
                                 provision::FileNamespace& files, EventBus& bus, provision::ClientMacs& macs,
                                 std::size_t perAddress, provision::ProblemReports* reports)
    : connections_(connections), acceptor_(connections.front()), pause_(connections.front()),
      shared_(std::make_shared<Shared>(io, files, bus, macs, limits::kMaxHttpConnections, perAddress)) {
    shared_->reports = reports;
    for (auto& c : connections_) work_.push_back(asio::make_work_guard(c));
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    endpoint_ = acceptor_.local_endpoint();
    doAccept();
    for (auto& c : connections_)
        threads_.emplace_back([&c] {
            nameThisThread("labcm-http");
            c.run();
        });
}

PhoneHttpServer::~PhoneHttpServer() {
    stop();
    work_.clear();
    for (auto& c : connections_) c.stop();
    for (auto& t : threads_) t.join();
}

std::uint64_t PhoneHttpServer::busy() const { return shared_->busy; }

std::uint64_t PhoneHttpServer::refusedPerAddress() const { return shared_->busyAddress; }

void PhoneHttpServer::stop() {
    asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ec;
        pause_.cancel();
        acceptor_.close(ec);
    });
}

void PhoneHttpServer::doAccept() {
    // The socket is accepted on the acceptor's own io_context and its descriptor then handed to
    // the connection's: an accept still pending at shutdown (destroyed with the acceptor's
    // io_context) must hold no socket of another io_context, which may be gone by then.
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            auto verdict = net::Admission::Admitted;
            if (auto admitted = admit(socket, shared_->caps, verdict)) {
                auto& context = connections_[next_++ % connections_.size()];
                tcp::socket moved(context);
                rehome(std::move(socket), moved, endpoint_.protocol(), ec);
                // Started on its own thread: its handlers run there from the first one on.
                if (!ec) asio::post(context, [session = std::make_shared<Session>(std::move(moved), shared_, std::move(*admitted))] { session->start(); });
            } else if (verdict != net::Admission::Admitted) {
                ++shared_->busy;
                if (verdict == net::Admission::AddressFull) ++shared_->busyAddress;
            }
        }
        if (pauseWhenNoDescriptors(ec, pause_, [this] {
                if (acceptor_.is_open()) doAccept();
            }))
            return;
        if (acceptor_.is_open()) doAccept();
    });
}

} // namespace labcm::http
