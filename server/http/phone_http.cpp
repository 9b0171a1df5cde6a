#include "http/phone_http.h"

#include <chrono>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "core/limits.h"
#include "http/http_common.h"
#include "http/phone_handler.h"

namespace labcm::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct PhoneHttpServer::Shared {
    provision::FileNamespace& files;
    EventBus& bus;
    provision::ClientMacs& macs;
    std::size_t sessions = 0;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<PhoneHttpServer::Shared> shared)
        : stream_(std::move(socket)), shared_(std::move(shared)), ip_(peerAddress(stream_)) {
        ++shared_->sessions;
    }
    ~Session() { --shared_->sessions; }

    void start() { doRead(); }

private:
    void doRead() {
        parser_.emplace();
        parser_->header_limit(limits::kHttpHeaderLimit);
        parser_->body_limit(0);
        stream_.expires_after(limits::kHttpIdleTimeout);
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
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
        auto started = std::chrono::steady_clock::now();
        auto req = parser_->release();
        keepAlive_ = req.keep_alive();
        auto outcome = std::make_shared<Outcome>();
        auto msg = respondToPhone(req, shared_->files, *outcome);
        stream_.expires_after(limits::kHttpWriteTimeoutBase + std::chrono::seconds(outcome->bytes >> 20));
        beast::async_write(stream_, std::move(msg),
                           [self = shared_from_this(), outcome, started](beast::error_code wec, std::size_t) {
                               self->onWrite(wec, *outcome, started);
                           });
    }

    void onWrite(beast::error_code ec, Outcome& o, std::chrono::steady_clock::time_point started) {
        if (ec) {
            o.kind = EventKind::FileFailed;
            o.reason = fmt::format("sending failed: {}", ec.message());
        }
        publish(o, started);
        if (ec || !keepAlive_) return close();
        doRead();
    }

    void publish(const Outcome& o, std::chrono::steady_clock::time_point started) {
        shared_->macs.learn(ip_, o.mac);
        std::string mac = o.mac.empty() ? shared_->macs.lookup(ip_) : o.mac;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        auto severity = o.kind == EventKind::FileServed     ? Severity::Info
                        : o.kind == EventKind::FileNotFound ? Severity::Info
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
    beast::flat_buffer buffer_{limits::kHttpHeaderLimit};
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
    std::shared_ptr<PhoneHttpServer::Shared> shared_;
    std::string ip_;
    bool keepAlive_ = true;
};

} // namespace

PhoneHttpServer::PhoneHttpServer(asio::io_context& io, const tcp::endpoint& endpoint, provision::FileNamespace& files,
                                 EventBus& bus, provision::ClientMacs& macs)
    : acceptor_(io), shared_(std::make_shared<Shared>(Shared{files, bus, macs})) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    doAccept();
}

PhoneHttpServer::~PhoneHttpServer() { stop(); }

void PhoneHttpServer::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
}

tcp::endpoint PhoneHttpServer::localEndpoint() const { return acceptor_.local_endpoint(); }

void PhoneHttpServer::doAccept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            if (shared_->sessions >= limits::kMaxHttpConnections) {
                socket.close(ec); // over the cap: refuse at once rather than queue
            } else {
                std::make_shared<Session>(std::move(socket), shared_)->start();
            }
        }
        if (acceptor_.is_open()) doAccept();
    });
}

} // namespace labcm::http
