#include "tftp/service.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/net.h"
#include "core/pktinfo.h"
#include "tftp/codec.h"
#include "tftp/policy.h"
#include "tftp/transfer.h"

namespace labcm::tftp {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// pread-backed source: firmware images are streamed from disk, never loaded whole.
class FileSource final : public Source {
public:
    FileSource(const std::filesystem::path& path, std::uint64_t size) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), size_(size) {
        if (fd_ < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    }
    ~FileSource() override {
        if (fd_ >= 0) ::close(fd_);
    }
    std::uint64_t size() const override { return size_; }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> out) override {
        std::size_t done = 0;
        while (done < out.size()) {
            auto n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::runtime_error(fmt::format("read: {}", std::strerror(errno)));
            if (n == 0) break;
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

private:
    int fd_;
    std::uint64_t size_;
};

} // namespace

class TftpService::Session : public std::enable_shared_from_this<Session> {
public:
    Session(asio::io_context& io, const asio::ip::address& local, const udp::endpoint& peer, TftpService& owner)
        : socket_(io), timer_(io), peer_(peer), owner_(owner), started_(std::chrono::steady_clock::now()) {
        socket_.open(peer.protocol());
        socket_.bind(udp::endpoint(local, 0));
        socket_.connect(peer);
    }

    // Sends one datagram and closes: errors before a transfer begins.
    void sendErrorAndClose(ErrorCode code, std::string_view message) {
        boost::system::error_code ec;
        socket_.send(asio::buffer(makeError(code, message)), 0, ec);
        socket_.close(ec);
    }

    void begin(std::unique_ptr<Source> source, Negotiated n, std::string name, std::string mac) {
        source_ = std::move(source);
        name_ = std::move(name);
        mac_ = std::move(mac);
        transfer_.emplace(std::move(n), *source_);
        lifetime_ = std::chrono::duration_cast<std::chrono::seconds>(limits::kTftpLifetimeBase) +
                    std::chrono::seconds(source_->size() / limits::kTftpLifetimeBytesPerSecond);
        timeout_ = transfer_->negotiated().timeoutSeconds > 0
                       ? std::chrono::milliseconds(transfer_->negotiated().timeoutSeconds * 1000)
                       : std::chrono::duration_cast<std::chrono::milliseconds>(limits::kTftpDefaultTimeout);
        owner_.sessions_->insert(this);
        sessions_ = owner_.sessions_;
        apply(transfer_->start());
        doReceive();
    }

    ~Session() {
        if (auto s = sessions_.lock()) s->erase(this);
    }

    const udp::endpoint& peer() const { return peer_; }

    // Ends the transfer from our side (shutdown).
    void abort(std::string_view why) {
        if (finished_) return;
        boost::system::error_code ec;
        socket_.send(asio::buffer(makeError(ErrorCode::NotDefined, why)), 0, ec);
        finish(false, std::string(why));
    }

private:
    void doReceive() {
        socket_.async_receive(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            self->onReceive(ec, n);
        });
    }

    void onReceive(boost::system::error_code ec, std::size_t n) {
        if (finished_) return;
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            // ICMP port unreachable shows up as connection_refused on a connected socket.
            return finish(false, fmt::format("client gone: {}", ec.message()));
        }
        std::span<const std::uint8_t> data(buffer_.data(), n);
        try {
            switch (peekOpcode(data)) {
            case Opcode::Ack: apply(transfer_->onAck(parseAck(data).block)); break;
            case Opcode::Error: {
                auto e = parseError(data);
                return finish(false, fmt::format("client sent error {}: {}", static_cast<int>(e.code), e.message));
            }
            default: ++owner_.counters_.dropped; break; // not for a read transfer: ignore
            }
        } catch (const ParseError& e) {
            ++owner_.counters_.dropped;
            spdlog::debug("tftp: dropped a datagram from {}: {}", peer_.address().to_string(), e.what());
        }
        if (!finished_) doReceive();
    }

    void apply(const Transfer::Step& step) {
        if (step.failed) return finish(false, step.error);
        if (!step.done && std::chrono::steady_clock::now() - started_ > lifetime_)
            return abort(fmt::format("transfer took longer than {} s", lifetime_.count()));
        for (const auto& d : step.send) {
            boost::system::error_code ec;
            socket_.send(asio::buffer(d), 0, ec); // a full buffer or ICMP error is recovered by retransmission
        }
        if (step.done) return finish(true, "");
        if (!step.send.empty()) arm();
    }

    void arm() {
        timer_.expires_after(timeout_);
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->finished_) return;
            self->apply(self->transfer_->onTimeout());
        });
    }

    void finish(bool ok, std::string reason) {
        if (finished_) return;
        finished_ = true;
        timer_.cancel();
        boost::system::error_code ec;
        socket_.close(ec);
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
        const auto& n = transfer_->negotiated();
        std::string detail = fmt::format("RRQ {} -> {} {} bytes {:.1f} ms (blksize {}, window {}, {} retransmissions){}{}",
                                         name_, ok ? "sent" : "failed", transfer_->bytesAcked(), ms, n.blockSize,
                                         n.windowSize, transfer_->retransmissions(), reason.empty() ? "" : ": ", reason);
        ok ? ++owner_.counters_.served : ++owner_.counters_.failed;
        std::string mac = mac_.empty() ? owner_.macs_.lookup(peer_.address().to_string()) : mac_;
        owner_.bus_.publish(Service::Tftp, ok ? EventKind::FileServed : EventKind::FileFailed,
                            ok ? Severity::Info : Severity::Warning, mac, peer_.address().to_string(), std::move(detail));
    }

    udp::socket socket_;
    asio::steady_timer timer_;
    udp::endpoint peer_;
    TftpService& owner_;
    std::weak_ptr<std::set<Session*>> sessions_;
    std::unique_ptr<Source> source_;
    std::optional<Transfer> transfer_;
    std::string name_, mac_;
    std::chrono::milliseconds timeout_{1000};
    std::chrono::seconds lifetime_{0}; ///< the transfer ends after this (limits::kTftpLifetimeBase)
    std::chrono::steady_clock::time_point started_;
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(512 + 4);
    bool finished_ = false;
};

TftpService::TftpService(asio::io_context& io, const udp::endpoint& endpoint, provision::FileNamespace& files,
                         EventBus& bus, provision::ClientMacs& macs)
    : io_(io), socket_(io), files_(files), bus_(bus), macs_(macs),
      sessions_(std::make_shared<std::set<Session*>>()), buffer_(65536) {
    socket_.open(endpoint.protocol());
    socket_.set_option(asio::socket_base::reuse_address(true));
    int one = 1;
    if (endpoint.protocol() == udp::v4()) ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    else ::setsockopt(socket_.native_handle(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    net::setReceiveBuffer(socket_.native_handle(), limits::kTftpReceiveBuffer); // a boot storm's bursts
    socket_.bind(endpoint);
    socket_.non_blocking(true);
    doReceive();
}

TftpService::~TftpService() { stop(); }

void TftpService::stop() {
    boost::system::error_code ec;
    socket_.close(ec);
    // Copy: abort() removes sessions from the set through their destructors later.
    std::vector<Session*> active(sessions_->begin(), sessions_->end());
    for (auto* s : active) s->abort("server shutting down");
}

udp::endpoint TftpService::localEndpoint() const { return socket_.local_endpoint(); }

std::size_t TftpService::active() const { return sessions_->size(); }

void TftpService::doReceive() {
    socket_.async_wait(udp::socket::wait_read, [this](boost::system::error_code ec) {
        if (ec) return; // closed
        // Drain what is there: recvmsg gives the destination address (IP_PKTINFO).
        for (int i = 0; i < 64; ++i) {
            boost::system::error_code lec;
            auto d = net::receiveWithPktinfo(socket_.native_handle(), buffer_, socket_.local_endpoint(lec).address());
            if (!d) break;
            onDatagram(std::span(buffer_.data(), d->size), d->from, d->dest);
        }
        doReceive();
    });
}

void TftpService::onDatagram(std::span<const std::uint8_t> data, const udp::endpoint& from,
                             const asio::ip::address& localAddress) {
    const std::string ip = from.address().to_string();
    Request req;
    try {
        req = parseRequest(data);
    } catch (const ParseError& e) {
        // Malformed, or not a request at all (a stray ACK on port 69): dropped, counted, logged.
        ++counters_.dropped;
        spdlog::debug("tftp: dropped a datagram from {}: {}", ip, e.what());
        return;
    }
    ++counters_.requests;
    std::shared_ptr<Session> session;
    try {
        session = std::make_shared<Session>(io_, localAddress, from, *this);
    } catch (const std::exception& e) {
        ++counters_.failed;
        spdlog::error("tftp: cannot open a transfer socket for {}: {}", ip, e.what());
        return;
    }
    std::size_t fromSource = 0;
    for (const auto* other : *sessions_) fromSource += other->peer().address() == from.address();
    auto a = admit(req, {sessions_->size(), fromSource}, files_);
    auto& r = a.file;
    auto refuse = [&](EventKind kind, ErrorCode code, const std::string& message, const std::string& reason) {
        if (kind != EventKind::FileNotFound) ++counters_.refused;
        session->sendErrorAndClose(code, message);
        macs_.learn(ip, r.mac);
        bus_.publish(Service::Tftp, kind, kind == EventKind::FileNotFound ? Severity::Info : Severity::Warning,
                     r.mac.empty() ? macs_.lookup(ip) : r.mac, ip,
                     fmt::format("{} {} -> error {} {}: {}", req.op == Opcode::Wrq ? "WRQ" : "RRQ", req.filename,
                                 static_cast<int>(code), message, reason));
    };
    if (!a.serve) return refuse(a.kind, a.code, a.message, a.reason);
    macs_.learn(ip, r.mac);
    using Kind = provision::FileResult::Kind;
    std::unique_ptr<Source> source;
    try {
        if (r.kind == Kind::File) source = std::make_unique<FileSource>(r.file.path, r.file.size);
        else source = std::make_unique<MemorySource>(std::move(r.body));
        // netascii is converted as the blocks are read, never held whole (issue 19).
        if (req.mode == "netascii") source = std::make_unique<NetasciiSource>(std::move(source));
    } catch (const std::exception& e) {
        return refuse(EventKind::FileFailed, ErrorCode::NotDefined, "internal error", e.what());
    }
    auto n = negotiate(req, source->size());
    session->begin(std::move(source), std::move(n), req.filename, r.mac);
}

} // namespace labcm::tftp
