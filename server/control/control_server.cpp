#include "control/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"

namespace labcm::control {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(stream::socket socket, Commands& commands, std::shared_ptr<std::size_t> counter)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), buffer_(limits::kMaxControlMessage),
          commands_(commands), counter_(std::move(counter)) {
        ++*counter_;
    }
    ~Session() { --*counter_; }

    void start() { doRead(); }

private:
    void doRead() {
        timer_.expires_after(limits::kControlIdleTimeout);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->socket_.close();
        });
        asio::async_read_until(socket_, buffer_, '\n',
                               [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                   self->onRead(ec, n);
                               });
    }

    void onRead(boost::system::error_code ec, std::size_t n) {
        timer_.cancel();
        if (ec) {
            // A line longer than the limit cannot be resynchronised: answer, then hang up.
            if (ec == asio::error::not_found)
                reply(errorLine(413, "too_large",
                                fmt::format("request longer than {} bytes", limits::kMaxControlMessage)),
                      false);
            return; // eof or error: the client is gone
        }
        std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
        buffer_.consume(n);
        json::value request;
        boost::system::error_code jec;
        request = json::parse(line, jec);
        if (jec) {
            reply(errorLine(400, "bad_request", "request is not JSON: " + jec.message()));
            return;
        }
        commands_.execute(request, [self = shared_from_this()](json::object r) { self->reply(r); });
    }

    static json::object errorLine(int status, const char* code, std::string message) {
        return {{"ok", false}, {"error", {{"status", status}, {"code", code}, {"message", std::move(message)}}}};
    }

    void reply(const json::object& r, bool keepOpen = true) {
        out_ = json::serialize(r) + "\n";
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this(), keepOpen](boost::system::error_code ec, std::size_t) {
                              if (!ec && keepOpen) self->doRead();
                          });
    }

    stream::socket socket_;
    asio::steady_timer timer_;
    asio::streambuf buffer_;
    std::string out_;
    Commands& commands_;
    std::shared_ptr<std::size_t> counter_;
};

ControlServer::ControlServer(asio::io_context& io, const std::filesystem::path& path, Commands& commands)
    : io_(io), path_(path), commands_(commands), acceptor_(io) {
    // The caller holds the data dir lock, so an existing socket file is a stale one.
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    acceptor_.open(stream());
    // Created with 0600 from the start: no window in which others could connect.
    mode_t old = ::umask(0177);
    boost::system::error_code ec;
    acceptor_.bind(stream::endpoint(path_.string()), ec);
    ::umask(old);
    if (ec) throw boost::system::system_error(ec, "bind control socket " + path_.string());
    acceptor_.listen();
    doAccept();
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
    if (!acceptor_.is_open()) return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
}

void ControlServer::doAccept() {
    acceptor_.async_accept([this](boost::system::error_code ec, stream::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            // Only root and the user labcm runs as may control it.
            ucred cred{};
            socklen_t len = sizeof cred;
            bool allowed = ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                           (cred.uid == 0 || cred.uid == ::geteuid());
            if (!allowed) {
                spdlog::warn("control: refused a connection from uid {}", cred.uid);
            } else if (*sessions_ >= limits::kMaxControlConnections) {
                spdlog::warn("control: refused a connection: {} already open", *sessions_);
            } else {
                std::make_shared<Session>(std::move(socket), commands_, sessions_)->start();
            }
        }
        if (acceptor_.is_open()) doAccept();
    });
}

} // namespace labcm::control
