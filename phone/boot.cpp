#include "boot.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <sofia-sip/su_md5.h>

#include "core/text.h"
#include "dhcp_client.h"
#include "phone_config.h"
#include "provision/firmware.h"
#include "sip/cisco.h"
#include "sip_message.h"
#include "tftp/codec.h"
#include "wire.h"

namespace labcm::phone {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// Largest file the simulator keeps in memory (configs, .loads); images are only counted.
constexpr std::size_t kMaxKeptFile = 4 * 1024 * 1024;
/// Largest file it accepts at all (a 88xx image set is ~100 MB in a few files).
constexpr std::size_t kMaxFile = 512 * 1024 * 1024;
/// TFTP retransmissions of one packet before the transfer is given up.
constexpr int kTftpRetries = 5;
/// A file refused as "busy" is asked again this many times, after kBusyPause, 2x, 4x ...
constexpr int kBusyRetries = 5;
constexpr auto kBusyPause = std::chrono::milliseconds(500);

std::string_view stepName(int step) {
    switch (step) {
    case kStepDhcp: return "dhcp";
    case kStepCtl: return "ctl";
    case kStepItl: return "itl";
    case kStepConfig: return "config";
    case kStepFirmware: return "firmware";
    case kStepDialRules: return "dial-rules";
    case kStepConnect: return "connect";
    case kStepRegister: return "register";
    case kStepLocale: return "locale";
    case kStepSoftkeys: return "softkeys";
    case kStepRingtones: return "ringtones";
    case kStepRegistered: return "registered";
    default: return "start";
    }
}

namespace {

double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// ---------------------------------------------------------------------------------------
// File fetches: HTTP 6970 and TFTP, as the phone does them.

struct Fetch {
    enum Status { Ok, NotFound, Error } status = Error;
    std::string body;       ///< kept when asked and small enough
    std::size_t bytes = 0;
    std::string detail;     ///< "http 404", "tftp error 1 File not found", "tftp: no answer"
};

awaitable<Fetch> httpGet(const std::string& localIp, const Target& t, const std::string& name,
                         std::string_view userAgent, std::chrono::milliseconds timeout, bool keep) {
    Fetch f;
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    boost::system::error_code ec;
    stream.socket().open(tcp::v4(), ec);
    if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(localIp), 0), ec);
    if (ec) {
        f.detail = "http: " + ec.message();
        co_return f;
    }
    stream.expires_after(timeout);
    auto [cec] = co_await stream.async_connect(tcp::endpoint(asio::ip::make_address(t.server), t.httpPort), kTuple);
    if (cec) {
        f.detail = "http connect: " + cec.message();
        co_return f;
    }
    http::request<http::empty_body> req{http::verb::get, "/" + name, 11};
    req.set(http::field::host, fmt::format("{}:{}", t.server, t.httpPort));
    req.set(http::field::user_agent, userAgent);
    req.set(http::field::connection, "close");
    auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
    (void)wn;
    if (wec) {
        f.detail = "http write: " + wec.message();
        co_return f;
    }
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxFile);
    stream.expires_after(timeout * 30);
    auto [rec, rn] = co_await http::async_read(stream, buf, parser, kTuple);
    (void)rn;
    if (rec) {
        f.detail = "http read: " + rec.message();
        co_return f;
    }
    auto& res = parser.get();
    f.detail = fmt::format("http {}", res.result_int());
    if (res.result() == http::status::ok) {
        f.status = Fetch::Ok;
        f.bytes = res.body().size();
        if (keep && f.bytes <= kMaxKeptFile) f.body = std::move(res.body());
    } else if (res.result() == http::status::not_found) {
        f.status = Fetch::NotFound;
    }
    co_return f;
}

// A phone's problem report upload (CUCM's "Generate PRT"): multipart/form-data with
// devicename, serialno, username and prt_file, POSTed to problemReportUploadURL. Returns
// "http 200" or what went wrong.
awaitable<std::string> httpPostReport(const std::string& localIp, const HttpUrl& url, const std::string& mac,
                                      std::string_view userAgent, std::chrono::milliseconds timeout) {
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    boost::system::error_code ec;
    auto server = asio::ip::make_address(url.host, ec);
    if (ec) co_return "prt: not an address: " + url.host;
    stream.socket().open(server.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(localIp), 0), ec);
    if (ec) co_return "prt: " + ec.message();
    stream.expires_after(timeout);
    auto [cec] = co_await stream.async_connect(tcp::endpoint(server, static_cast<std::uint16_t>(url.port)), kTuple);
    if (cec) co_return "prt connect: " + cec.message();
    const std::string boundary = "----labcmPhoneSimulator" + mac;
    // A stand-in archive: gzip's magic, then bytes that vary with the MAC (and hold CRLFs and
    // dashes, as a real archive may).
    std::string archive = "\x1f\x8b\x08\x00";
    for (int i = 0; i < 4096; ++i) archive += static_cast<char>((i * 31 + mac.back()) & 0xff);
    std::string body;
    auto field = [&](const char* name, const std::string& value) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n\n" + value + "\r\n";
    };
    field("devicename", "SEP" + mac);
    field("serialno", "FCH" + mac.substr(6));
    field("username", "");
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"prt_file\"; filename=\"probrep-20260101-120000.tar.gz\"\r\n"
            "Content-Type: application/x-gzip\r\n\r\n" + archive + "\r\n--" + boundary + "--\r\n";
    http::request<http::string_body> req{http::verb::post, url.path, 11};
    req.set(http::field::host, url.host);
    req.set(http::field::user_agent, userAgent);
    req.set(http::field::content_type, "multipart/form-data; boundary=" + boundary);
    req.set(http::field::connection, "close");
    req.body() = std::move(body);
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
    (void)wn;
    if (wec) co_return "prt write: " + wec.message();
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream, buf, res, kTuple);
    (void)rn;
    if (rec) co_return "prt read: " + rec.message();
    co_return fmt::format("http {}", res.result_int());
}

awaitable<Fetch> tftpGet(const std::string& localIp, const Target& t, const std::string& name, bool options,
                         std::chrono::milliseconds timeout, bool keep) {
    Fetch f;
    auto ex = co_await asio::this_coro::executor;
    udp::socket sock(ex);
    boost::system::error_code ec;
    sock.open(udp::v4(), ec);
    if (!ec) sock.bind(udp::endpoint(asio::ip::make_address(localIp), 0), ec);
    if (ec) {
        f.detail = "tftp: " + ec.message();
        co_return f;
    }
    const udp::endpoint server(asio::ip::make_address(t.server), t.tftpPort);
    tftp::Request rq{tftp::Opcode::Rrq, name, "octet", {}};
    std::size_t blksize = 512;
    if (options) rq.options = {{"blksize", "1428"}, {"tsize", "0"}};
    std::vector<std::uint8_t> last = tftp::makeRequest(rq);
    std::optional<udp::endpoint> peer;
    std::uint16_t expected = 1;
    int tries = 0;
    std::vector<std::uint8_t> buf(65536);
    asio::steady_timer timer(ex);
    co_await sock.async_send_to(asio::buffer(last), server, kTuple);
    for (;;) {
        udp::endpoint from;
        timer.expires_after(timeout);
        auto r = co_await (sock.async_receive_from(asio::buffer(buf), from, kTuple) || timer.async_wait(kTuple));
        if (r.index() == 1) {
            if (++tries > kTftpRetries) {
                f.detail = fmt::format("tftp: no answer after {} tries", tries);
                co_return f;
            }
            co_await sock.async_send_to(asio::buffer(last), peer.value_or(server), kTuple);
            continue;
        }
        auto [rec, n] = std::get<0>(r);
        if (rec) {
            f.detail = "tftp: " + rec.message();
            co_return f;
        }
        if (peer && from != *peer) {
            auto err = tftp::makeError(tftp::ErrorCode::UnknownTid, "unknown transfer ID");
            co_await sock.async_send_to(asio::buffer(err), from, kTuple);
            continue;
        }
        std::span<const std::uint8_t> pkt(buf.data(), n);
        try {
            auto op = tftp::peekOpcode(pkt);
            if (op == tftp::Opcode::Error) {
                auto e = tftp::parseError(pkt);
                f.status = e.code == tftp::ErrorCode::FileNotFound ? Fetch::NotFound : Fetch::Error;
                f.detail = fmt::format("tftp error {} {}", static_cast<int>(e.code), e.message);
                co_return f;
            }
            if (op == tftp::Opcode::Oack && !peer) {
                for (const auto& [k, v] : tftp::parseOack(pkt))
                    if (k == "blksize") blksize = std::clamp<std::size_t>(std::stoul(v), 8, 65464);
                peer = from;
                last = tftp::makeAck(0);
                tries = 0;
                co_await sock.async_send_to(asio::buffer(last), from, kTuple);
                continue;
            }
            if (op != tftp::Opcode::Data) continue; // not for a reading client: ignore
            auto d = tftp::parseData(pkt);
            if (!peer) peer = from;
            if (d.block == expected) {
                f.bytes += d.payload.size();
                if (f.bytes > kMaxFile) {
                    f.detail = "tftp: file larger than 512 MiB";
                    co_return f;
                }
                if (keep && f.bytes <= kMaxKeptFile) f.body.append(d.payload.begin(), d.payload.end());
                last = tftp::makeAck(expected);
                tries = 0;
                co_await sock.async_send_to(asio::buffer(last), from, kTuple);
                if (d.payload.size() < blksize) {
                    f.status = Fetch::Ok;
                    f.detail = "tftp";
                    if (keep && f.bytes > kMaxKeptFile) f.body.clear();
                    co_return f;
                }
                ++expected; // wraps to 0 after 65535, as the server's rollover does
            } else if (d.block == static_cast<std::uint16_t>(expected - 1)) {
                co_await sock.async_send_to(asio::buffer(last), from, kTuple); // our ACK was lost
            }
        } catch (const std::exception& e) { // malformed packet: dropped, the transfer goes on
            continue;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The SIP link: one TCP connection (or one UDP socket) per phone, as a real phone has.

class LinkClosed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SipLink {
public:
    SipLink(asio::any_io_executor ex, Transport t, std::string localIp, int udpPort, udp::endpoint server)
        : transport_(t), localIp_(std::move(localIp)), udpPort_(udpPort), server_(std::move(server)), tcp_(ex),
          udp_(ex), timer_(ex) {}

    awaitable<void> open() {
        boost::system::error_code ec;
        auto local = asio::ip::make_address(localIp_);
        if (transport_ == Transport::Tcp) {
            tcp_.open(tcp::v4(), ec);
            if (!ec) tcp_.bind(tcp::endpoint(local, 0), ec);
            if (ec) throw LinkClosed("cannot bind " + localIp_ + ": " + ec.message());
            timer_.expires_after(std::chrono::seconds(5));
            auto r = co_await (tcp_.async_connect(tcp::endpoint(server_.address(), server_.port()), kTuple) ||
                               timer_.async_wait(kTuple));
            if (r.index() == 1) throw LinkClosed("TCP connect timed out");
            if (auto [cec] = std::get<0>(r); cec) throw LinkClosed("TCP connect: " + cec.message());
            tcp_.set_option(tcp::no_delay(true), ec); // a 200 OK then a REGISTER: no Nagle wait
            tcp_.non_blocking(true, ec);              // receive() reads only what is there
            localPort_ = tcp_.local_endpoint().port();
        } else {
            udp_.open(udp::v4(), ec);
            if (!ec) udp_.set_option(udp::socket::reuse_address(true), ec);
            if (!ec) udp_.bind(udp::endpoint(local, static_cast<unsigned short>(udpPort_)), ec);
            if (ec) throw LinkClosed("cannot bind UDP " + localIp_ + ": " + ec.message());
            udp_.non_blocking(true, ec);
            localPort_ = udp_.local_endpoint().port();
        }
    }

    int localPort() const { return localPort_; }
    Transport transport() const { return transport_; }
    int malformed() const { return malformed_; }

    awaitable<void> send(const std::string& msg, std::optional<udp::endpoint> to = std::nullopt) {
        if (transport_ == Transport::Tcp) {
            auto [ec, n] = co_await asio::async_write(tcp_, asio::buffer(msg), kTuple);
            (void)n;
            if (ec) throw LinkClosed("TCP write: " + ec.message());
        } else {
            auto [ec, n] = co_await udp_.async_send_to(asio::buffer(msg), to.value_or(server_), kTuple);
            (void)n;
            if (ec) throw LinkClosed("UDP send: " + ec.message());
        }
    }

    /// The next message, or nullopt at the deadline. Malformed messages are counted and
    /// dropped (UDP) or close the link (TCP: the stream cannot be resynchronised).
    awaitable<std::optional<SipMessage>> receive(Clock::time_point deadline) {
        for (;;) {
            if (transport_ == Transport::Tcp) {
                if (auto msg = takeFramed()) {
                    if (msg->empty()) continue; // CRLF keep-alive
                    co_return parseOrCount(*msg);
                }
            }
            if (Clock::now() >= deadline) co_return std::nullopt;
            timer_.expires_at(deadline);
            std::array<char, 8192> chunk;
            if (transport_ == Transport::Tcp) {
                // Wait for readability, then read what is there: a wait cut short by the timer
                // (or wake()) loses no bytes, as a cancelled read could.
                auto r = co_await (tcp_.async_wait(tcp::socket::wait_read, kTuple) || timer_.async_wait(kTuple));
                if (r.index() == 1) co_return std::nullopt;
                auto [wec] = std::get<0>(r);
                boost::system::error_code ec = wec;
                std::size_t n = ec ? 0 : tcp_.read_some(asio::buffer(chunk), ec);
                if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
                if (ec) throw LinkClosed(ec == asio::error::eof ? "server closed the TCP connection" : "TCP read: " + ec.message());
                stream_.append(chunk.data(), n);
            } else {
                udp::endpoint from;
                auto r = co_await (udp_.async_wait(udp::socket::wait_read, kTuple) || timer_.async_wait(kTuple));
                if (r.index() == 1) co_return std::nullopt;
                auto [wec] = std::get<0>(r);
                boost::system::error_code ec = wec;
                std::size_t n = ec ? 0 : udp_.receive_from(asio::buffer(chunk), from, 0, ec);
                if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
                if (ec) throw LinkClosed("UDP read: " + ec.message());
                lastFrom_ = from;
                if (auto m = parseOrCount(std::string_view(chunk.data(), n))) co_return m;
            }
        }
    }

    /// Ends a receive() waiting now (it returns nullopt, as at its deadline).
    void wake() { timer_.cancel(); }

    /// Where a UDP request came from: responses go to its Via, which for labcm is the same.
    const udp::endpoint& lastFrom() const { return lastFrom_; }

    void close() {
        boost::system::error_code ec;
        tcp_.close(ec);
        udp_.close(ec);
    }

private:
    std::optional<std::string> takeFramed() {
        std::optional<std::size_t> len;
        try {
            len = frameLength(stream_);
        } catch (const SipParseError& e) {
            ++malformed_;
            throw LinkClosed(std::string("unframeable SIP on TCP: ") + e.what());
        }
        if (!len) return std::nullopt;
        std::string msg = stream_.substr(0, *len);
        stream_.erase(0, *len);
        if (msg.find_first_not_of("\r\n") == std::string::npos) return std::string();
        return msg;
    }

    std::optional<SipMessage> parseOrCount(std::string_view text) {
        try {
            return parseSipMessage(text);
        } catch (const SipParseError&) {
            ++malformed_;
            return std::nullopt;
        }
    }

    Transport transport_;
    std::string localIp_;
    int udpPort_;
    udp::endpoint server_;
    tcp::socket tcp_;
    udp::socket udp_;
    asio::steady_timer timer_;
    std::string stream_;
    udp::endpoint lastFrom_;
    int localPort_ = 0;
    int malformed_ = 0;
};

std::string md5hex(const std::string& s) {
    su_md5_t ctx;
    su_md5_init(&ctx);
    su_md5_update(&ctx, s.data(), s.size());
    char hex[33];
    su_md5_hexdigest(&ctx, hex);
    return std::string(hex, 32);
}

std::string randomHex(std::mt19937& rng, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < digits; ++i) s += kHex[rng() % 16];
    return s;
}

// ---------------------------------------------------------------------------------------

class Phone {
public:
    Phone(PhoneSpec spec, Target target, RunOptions opt, PhoneResult& res)
        : spec_(std::move(spec)), target_(std::move(target)), opt_(std::move(opt)), res_(res),
          rng_(std::random_device{}()) {
        res_.mac = spec_.mac;
        relayIp_ = spec_.localIp; // the relay agent keeps the phone's first address as giaddr
        res_.activeLoad = spec_.activeLoad;
        res_.inactiveLoad = spec_.inactiveLoad;
        if (auto* sb = opt_.switchboard; sb && spec_.index < sb->wake.size())
            sb->wake[spec_.index] = [this] {
                if (idle_ && link_) link_->wake();
            };
    }

    Phone(const Phone&) = delete;
    Phone& operator=(const Phone&) = delete;

    // Fleet calls this phone can no longer place or finish are over for the Switchboard.
    ~Phone() {
        auto* sb = opt_.switchboard;
        if (!sb || spec_.index >= sb->wake.size()) return;
        sb->wake[spec_.index] = nullptr;
        takeOrders();
        std::size_t ended = 0;
        for (auto& [dn, fleet] : orders_) {
            res_.calls.push_back(CallRecord{dn, false, 0, "", 0, 0, true, "not placed: the phone stopped"});
            if (fleet) ++ended;
        }
        for (const auto& [id, c] : calls_)
            if (c.outgoing && c.fleet) ++ended;
        sb->outstanding -= std::min(ended, sb->outstanding);
        if (ended && sb->over() && !sb->stopped) sb->wakeAll();
    }

    awaitable<void> run() {
        const int maxCycles = opt_.boots + 5; // restarts asked for + firmware upgrades + auto-registration resets
        for (int cycle = 0; cycle < maxCycles; ++cycle) {
            ++boot_;
            bool upgraded = false;
            if (!co_await bootOnce(upgraded)) co_return finish();
            if (upgraded) continue; // the phone reboots into the new load
            ++res_.bootsRegistered;
            bool last = res_.bootsRegistered >= opt_.boots;
            bool byCount = opt_.keepalives > 0 || opt_.waitCalls > 0;
            auto next = co_await stayRegistered(last && !byCount ? Clock::now() + opt_.hold : Clock::time_point::max(),
                                                last ? opt_.keepalives : 0, last);
            if (next == Next::Stop || next == Next::Failed) co_return finish();
        }
        fail(res_.currentStep, "too many boots (firmware upgrade loop?)");
        finish();
    }

private:
    enum class Next { Stop, Reboot, Failed };

    void finish() { res_.done = true; }

    void fail(int step, const std::string& why) {
        res_.currentStep = step;
        if (res_.failure.empty()) res_.failure = fmt::format("step {}: {}", step, why);
        log(fmt::format("FAILED {}", res_.failure));
    }

    void warn(std::string what) {
        log("tolerated: " + what);
        res_.warnings.push_back(std::move(what));
    }

    void log(const std::string& s) {
        if (opt_.log) opt_.log(fmt::format("SEP{} [{:>7.1f} ms] {}", spec_.mac, msSince(bootStart_), s));
    }

    void record(int step, std::string what, std::string outcome, bool ok, Clock::time_point t0) {
        StepRecord r{boot_, step, std::move(what), std::move(outcome), ok, msSince(t0)};
        log(fmt::format("step {} {}: {}", step, r.what, r.outcome));
        res_.steps.push_back(std::move(r));
    }

    // HTTP 6970 first (78xx/88xx), TFTP after any HTTP failure; TFTP only for 79xx.
    // A server that answers "busy" (TFTP error 0 "server busy", HTTP 503) is asked again after
    // a pause that doubles (kBusyPause, then 2x, 4x ...), kBusyRetries times. Inferred, not
    // documented by Cisco: the 78xx/88xx and 79xx retry a failed configuration download
    // rather than boot without it (their console logs show repeated TFTP requests of the same
    // file seconds apart); the simulator bounds the retries so a run always ends.
    awaitable<Fetch> fetch(int step, const std::string& name, bool keep) {
        res_.currentStep = step;
        auto t0 = Clock::now();
        for (int attempt = 0;; ++attempt) {
            std::string trail;
            Fetch f;
            if (spec_.profile.httpFirst) {
                f = co_await httpGet(spec_.localIp, target_, name, spec_.profile.userAgent, opt_.fileTimeout, keep);
                if (f.status == Fetch::Ok) {
                    record(step, name, fmt::format("ok via http, {} bytes", f.bytes), true, t0);
                    co_return f;
                }
                trail = f.detail + ", ";
            }
            auto h = co_await tftpGet(spec_.localIp, target_, name, spec_.profile.httpFirst, opt_.fileTimeout, keep);
            h.detail = trail + h.detail;
            const bool busy = h.status == Fetch::Error && (h.detail.find("busy") != std::string::npos ||
                                                           h.detail.find("http 503") != std::string::npos);
            if (busy && attempt < kBusyRetries) {
                ++res_.busyRetries;
                asio::steady_timer pause(co_await asio::this_coro::executor);
                pause.expires_after(kBusyPause * (1 << attempt));
                co_await pause.async_wait(kTuple);
                continue;
            }
            if (h.status == Fetch::Ok)
                record(step, name, fmt::format("ok via {}, {} bytes", trail.empty() ? "tftp" : "tftp after " + trail.substr(0, trail.size() - 2), h.bytes), true, t0);
            else
                record(step, name, fmt::format("{} ({})", h.status == Fetch::NotFound ? "not found" : "error", h.detail), false, t0);
            co_return h;
        }
    }

    awaitable<bool> expectNotFound(int step, const std::string& name) {
        auto f = co_await fetch(step, name, false);
        if (f.status == Fetch::Ok) {
            fail(step, name + " was served: a secure-cluster trust list; labcm-phone simulates a non-secure phone");
            co_return false;
        }
        if (f.status == Fetch::Error) {
            fail(step, name + ": " + f.detail);
            co_return false;
        }
        co_return true;
    }

    void tolerate(int step, const std::string& name, const Fetch& f) {
        if (f.status != Fetch::Ok)
            warn(fmt::format("step {}: {} {}", step, name, f.status == Fetch::NotFound ? "not found" : f.detail));
    }

    awaitable<bool> bootOnce(bool& upgraded) {
        bootStart_ = Clock::now();
        link_.reset();
        const std::string sep = "SEP" + spec_.mac;
        if (spec_.dhcpIface.empty() && spec_.dhcpRelay.empty()) {
            record(kStepDhcp, "dhcp", "skipped: TFTP server " + target_.server + " given", true, bootStart_);
        } else {
            res_.currentStep = kStepDhcp;
            std::string why;
            DhcpPath path{spec_.dhcpIface, spec_.dhcpRelay, relayIp_, spec_.dhcpPort};
            auto lease = co_await dhcpLease(path, spec_.mac, std::string(spec_.profile.vendorClass), opt_.fileTimeout * 2, why);
            if (!lease) {
                fail(kStepDhcp, why);
                co_return false;
            }
            if (!spec_.dhcpIface.empty()) {
                if (auto e = configureAddress(spec_.dhcpIface, *lease); !e.empty()) {
                    fail(kStepDhcp, e);
                    co_return false;
                }
            } else if (!asio::ip::make_address(lease->ip).is_loopback()) {
                fail(kStepDhcp, "leased " + lease->ip + ", not a loopback address: add --dhcp <interface> to take it");
                co_return false;
            }
            spec_.localIp = lease->ip;
            target_.server = lease->tftpServer();
            if (target_.server.empty()) {
                fail(kStepDhcp, "the DHCP answer names no TFTP server (no option 150, 66 or siaddr): " + lease->summary);
                co_return false;
            }
            record(kStepDhcp, "dhcp on " + spec_.dhcpIface, "ok: " + lease->summary, true, bootStart_);
        }

        if (!co_await expectNotFound(kStepCtl, "CTL" + sep + ".tlv")) co_return false;
        if (!co_await expectNotFound(kStepItl, "ITL" + sep + ".tlv")) co_return false;
        if (spec_.profile.itlFile && !co_await expectNotFound(kStepItl, "ITLFile.tlv")) co_return false;

        // Step 6: the config, else XMLDefault.
        auto cf = co_await fetch(kStepConfig, sep + ".cnf.xml", true);
        if (cf.status == Fetch::Error) {
            fail(kStepConfig, sep + ".cnf.xml: " + cf.detail);
            co_return false;
        }
        if (cf.status == Fetch::NotFound) {
            auto df = co_await fetch(kStepConfig, "XMLDefault.cnf.xml", true);
            if (df.status != Fetch::Ok) {
                fail(kStepConfig, sep + ".cnf.xml not found and XMLDefault.cnf.xml " +
                                      (df.status == Fetch::NotFound ? "not found" : df.detail));
                co_return false;
            }
            co_return co_await onDefaultConfig(df.body, upgraded);
        }
        try {
            cfg_ = parsePhoneConfig(cf.body, spec_.profile.typemodel);
        } catch (const ConfigError& e) {
            fail(kStepConfig, sep + ".cnf.xml: " + e.what());
            co_return false;
        }
        if (cfg_.lines.empty()) {
            fail(kStepConfig, sep + ".cnf.xml has no line");
            co_return false;
        }

        // Step 7: firmware, when the config names a load the phone does not run.
        if (!cfg_.load.empty() && !text::iequals(cfg_.load, res_.activeLoad)) {
            if (co_await upgrade(cfg_.load)) {
                upgraded = true;
                co_return true;
            }
        }

        // Step 8: dial rules.
        if (spec_.profile.appDialRules) tolerate(kStepDialRules, "AppDialRules.xml", co_await fetch(kStepDialRules, "AppDialRules.xml", false));
        if (!cfg_.dialTemplate.empty())
            tolerate(kStepDialRules, cfg_.dialTemplate, co_await fetch(kStepDialRules, cfg_.dialTemplate, false));

        // Steps 9-10: connect and register.
        if (!co_await connectAndRegister(lastAlarm_, lastReason_)) co_return false;
        res_.bootToRegisteredMs.push_back(msSince(bootStart_));

        // Steps 11-13: locale, softkeys, ring list.
        if (!cfg_.userLocale.empty() && !spec_.profile.localeJar.empty()) {
            std::string name = cfg_.userLocale + "/" + std::string(spec_.profile.localeJar);
            tolerate(kStepLocale, name, co_await fetch(kStepLocale, name, false));
        }
        if (!cfg_.networkLocale.empty()) {
            std::string name = cfg_.networkLocale + "/" + std::string(spec_.profile.tones);
            tolerate(kStepLocale, name, co_await fetch(kStepLocale, name, false));
        }
        if (!cfg_.softKeyFile.empty())
            tolerate(kStepSoftkeys, cfg_.softKeyFile, co_await fetch(kStepSoftkeys, cfg_.softKeyFile, false));
        // The ring list (a phone fetches a ring file only when the user picks it).
        std::string ring(spec_.profile.ringList);
        auto list = co_await fetch(kStepRingtones, ring, true);
        tolerate(kStepRingtones, ring, list);
        if (list.status == Fetch::Ok) {
            try {
                if (parseRingList(list.body).empty()) warn(fmt::format("step {}: {} lists no ring", kStepRingtones, ring));
            } catch (const ConfigError& e) {
                warn(fmt::format("step {}: {}: {}", kStepRingtones, ring, e.what()));
            }
        }
        res_.currentStep = kStepRegistered;
        log(fmt::format("registered {} line(s), primary {} over {}", cfg_.lines.size(), res_.line, res_.transport));
        co_return true;
    }

    // On XMLDefault the phone takes its model's load, then registers with the call manager
    // so an auto-registering server can create it, and resets; its next boot finds its SEP
    // file or, after a second try, gives up. (What an unprovisioned phone sends is not in
    // any capture: the REGISTER with the device name as user is inferred [I].)
    awaitable<bool> onDefaultConfig(const std::string& xml, bool& reboot) {
        const std::string sep = "SEP" + spec_.mac;
        try {
            cfg_ = parsePhoneConfig(xml, spec_.profile.typemodel);
        } catch (const ConfigError& e) {
            fail(kStepConfig, "XMLDefault.cnf.xml: " + std::string(e.what()));
            co_return false;
        }
        if (!cfg_.load.empty() && !text::iequals(cfg_.load, res_.activeLoad) && co_await upgrade(cfg_.load)) {
            reboot = true;
            co_return true;
        }
        if (++autoRegTries_ > kAutoRegTries) {
            fail(kStepConfig, sep + ".cnf.xml not found (XMLDefault.cnf.xml served; the device is not provisioned)");
            co_return false;
        }
        cfg_.lines = {LineConfig{1, sep, "", "", "", ""}};
        std::string outcome;
        try {
            co_await openLink(spec_.profile.defaultTransport);
            newIdentity();
            std::string why;
            auto resp = co_await registerOnce(reasonFor(lastAlarm_, lastReason_), true, cfg_.registerExpires, why);
            outcome = resp ? fmt::format("answered {} {}", resp->status, resp->reason) : why;
            link_->close();
        } catch (const LinkClosed& e) {
            outcome = e.what();
        }
        callId_.clear();
        warn(fmt::format("step 6: {}.cnf.xml not found; on XMLDefault.cnf.xml the REGISTER as {} {}; the phone resets", sep,
                         sep, outcome));
        reboot = true;
        co_return true;
    }

    // Fetches <load>.loads and the images it lists; true when the phone switched loads.
    awaitable<bool> upgrade(const std::string& load) {
        auto lf = co_await fetch(kStepFirmware, load + ".loads", true);
        if (lf.status != Fetch::Ok) {
            warn(fmt::format("step 7: {}.loads {}; keeps running {}", load,
                                                lf.status == Fetch::NotFound ? "not found" : lf.detail, res_.activeLoad));
            co_return false;
        }
        auto loads = provision::parseLoads(std::span(reinterpret_cast<const std::uint8_t*>(lf.body.data()), lf.body.size()));
        if (loads.images.empty()) {
            warn(fmt::format("step 7: {}.loads lists no image; keeps running {}", load, res_.activeLoad));
            co_return false;
        }
        if (opt_.fetchImages) {
            for (const auto& image : loads.images) {
                auto f = co_await fetch(kStepFirmware, image, false);
                if (f.status != Fetch::Ok) {
                    warn(fmt::format("step 7: image {} {}; upgrade to {} aborted, keeps running {}", image,
                                                        f.status == Fetch::NotFound ? "not found" : f.detail, load, res_.activeLoad));
                    co_return false;
                }
            }
        }
        log(fmt::format("upgraded {} -> {}; rebooting", res_.activeLoad, load));
        res_.inactiveLoad = res_.activeLoad;
        res_.activeLoad = load;
        ++res_.upgrades;
        lastAlarm_ = 25;
        lastReason_ = "initialized";
        co_return true;
    }

    // A SIP link to the primary call manager of the config. @throw LinkClosed
    awaitable<void> openLink(Transport tr) {
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(cfg_.processNodeName, ec);
        if (ec) throw LinkClosed("processNodeName '" + cfg_.processNodeName + "' is not an IP address");
        link_ = std::make_unique<SipLink>(co_await asio::this_coro::executor, tr, spec_.localIp, spec_.sipPort,
                                          udp::endpoint(addr, static_cast<unsigned short>(cfg_.sipPort)));
        co_await link_->open();
    }

    // The registration's identity: Call-ID, From tag and Session-ID, new per boot.
    void newIdentity() {
        callId_ = ciscoCallId(spec_.mac, static_cast<unsigned>(rng_()), static_cast<unsigned>(rng_()), spec_.localIp);
        fromTag_ = text::toLower(spec_.mac) + "00" + randomHex(rng_, 6) + "-" + randomHex(rng_, 8);
        sessionId_ = randomHex(rng_, 32);
    }

    awaitable<bool> connectAndRegister(int alarm, const std::string& lastWhy) {
        res_.currentStep = kStepConnect;
        auto t0 = Clock::now();
        Transport tr = spec_.profile.defaultTransport;
        switch (cfg_.transportLayerProtocol) {
        case 1:
        case 4: tr = Transport::Tcp; break;
        case 2: tr = Transport::Udp; break;
        case 3: fail(kStepConnect, "transportLayerProtocol 3 (TLS) is not simulated"); co_return false;
        default: break;
        }
        try {
            co_await openLink(tr);
        } catch (const LinkClosed& e) {
            fail(kStepConnect, fmt::format("{}:{} {}: {}", cfg_.processNodeName, cfg_.sipPort, toString(tr), e.what()));
            co_return false;
        }
        record(kStepConnect, fmt::format("{}:{} {}", cfg_.processNodeName, cfg_.sipPort, toString(tr)),
               fmt::format("ok from port {}", link_->localPort()), true, t0);
        res_.transport = std::string(toString(tr));
        res_.line = cfg_.lines.front().name;

        if (callId_.empty()) newIdentity();
        res_.currentStep = kStepRegister;
        t0 = Clock::now();
        std::string why;
        auto resp = co_await registerOnce(reasonFor(alarm, lastWhy), true, cfg_.registerExpires, why);
        if (!resp) {
            fail(kStepRegister, why);
            co_return false;
        }
        if (resp->status != 200) {
            fail(kStepRegister, fmt::format("REGISTER answered {} {}", resp->status, resp->reason));
            co_return false;
        }
        granted_ = grantedExpires(*resp);
        cm_ = 0;
        res_.callManager = fmt::format("{}:{}", cfg_.processNodeName, cfg_.sipPort);
        record(kStepRegister, "REGISTER " + res_.line, fmt::format("200 OK, expires {}", granted_), true, t0);
        if (granted_ - 5 < 20) {
            // The firmware refuses a registration period under MIN_REGISTRATION_PERIOD (20 s).
            fail(kStepRegister, fmt::format("200 OK grants {} s; the phone needs at least 25 and unregisters", granted_));
            co_return false;
        }
        checkInitialOk(*resp);
        co_return true;
    }

    // What a Cisco phone takes from the first 200 OK beyond "registered" (sip-wire §3.2):
    // noted as tolerated problems, since the phone still registers without them.
    void checkInitialOk(const SipMessage& r) {
        auto note = [&](const std::string& what) { warn("step 10: 200 OK " + what); };
        if (!r.header("Date")) note("has no Date (the phone sets its clock from it)");
        auto supported = text::toLower(r.header("Supported").value_or(""));
        if (supported.find("x-cisco-sis-") == std::string::npos)
            note("names no X-cisco-sis version (the phone falls back to SIS 1.0.0)");
        if (!r.header("Contact") || r.header("Contact")->find("x-cisco-newreg") == std::string_view::npos)
            note("has no x-cisco-newreg on the Contact (the phone keeps stale subscriptions)");
        if (r.body.find("<x-cisco-remotecc-response>") == std::string::npos || r.body.find("<optionsind>") == std::string::npos)
            note("has no optionsind response (bulk registration of lines 2..n unconfirmed [I])");
    }

    std::string reasonFor(int alarm, const std::string& why) const {
        return reasonText(spec_.profile, alarm, "SEP" + spec_.mac, res_.activeLoad, res_.inactiveLoad, why);
    }

    // The firmware's rule (sip-wire §3.2): a Contact expires= counts only when that
    // Contact's user is the line's (name or contact) and its host is the phone's address;
    // else the Expires header; either only when below the configured timerRegisterExpires.
    int grantedExpires(const SipMessage& r) const {
        std::optional<int> value;
        if (auto c = r.header("Contact")) {
            auto uri = parseSipUri(*c);
            if (uri && isOurUser(uri->user) && uri->host == spec_.localIp)
                if (auto e = headerParam(*c, "expires")) try {
                        value = std::stoi(*e);
                    } catch (...) {
                    }
        }
        if (!value)
            if (auto e = r.header("Expires")) try {
                    value = std::stoi(std::string(*e));
                } catch (...) {
                }
        if (!value || *value <= 0 || *value >= cfg_.registerExpires) return cfg_.registerExpires;
        return *value;
    }

    // Sends one REGISTER (answering a digest challenge once) and waits for its final answer.
    // Requests that arrive meanwhile are answered (a restart is remembered).
    awaitable<std::optional<SipMessage>> registerOnce(std::optional<std::string> reason, bool body, int expires,
                                                      std::string& why, bool standby = false) {
        std::string authorization;
        for (int attempt = 0; attempt < 2; ++attempt) {
            RegisterRequest r;
            static_cast<PhoneOrigin&>(r) = origin();
            r.callId = callId_;
            r.fromTag = fromTag_;
            r.branch = "z9hG4bK" + randomHex(rng_, 8);
            r.cseq = ++cseq_;
            r.expires = expires;
            r.reason = reason;
            r.bulkBody = body;
            r.authorization = authorization;
            r.date = rfc1123Date(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count());
            r.sessionId = sessionId_;
            r.standbyKeepAlive = standby;
            std::string text = buildRegister(spec_.profile, r);
            auto resp = co_await transaction(text, r.cseq, why);
            if (!resp) co_return std::nullopt;
            if ((resp->status == 401 || resp->status == 407) && attempt == 1) {
                why = fmt::format("REGISTER answered {} again after digest authentication (wrong authName/authPassword?)",
                                  resp->status);
                co_return std::nullopt;
            }
            if (resp->status == 401 || resp->status == 407) {
                const auto& line = cfg_.lines.front();
                if (line.authName.empty()) {
                    why = fmt::format("REGISTER challenged ({}) but the config has no authName", resp->status);
                    co_return std::nullopt;
                }
                auto ch = parseDigestChallenge(
                    resp->header(resp->status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate").value_or(""));
                if (ch.empty() || !ch.count("nonce")) {
                    why = "REGISTER challenged without a Digest nonce";
                    co_return std::nullopt;
                }
                std::string uri = "sip:" + cfg_.processNodeName;
                if (cfg_.sipPort != 5060) uri += ":" + std::to_string(cfg_.sipPort);
                std::string ha1 = md5hex(line.authName + ":" + ch["realm"] + ":" + line.authPassword);
                std::string ha2 = md5hex("REGISTER:" + uri);
                std::string response = md5hex(ha1 + ":" + ch["nonce"] + ":" + ha2);
                authorization = fmt::format(
                    "Digest username=\"{}\",realm=\"{}\",uri=\"{}\",response=\"{}\",nonce=\"{}\",algorithm=MD5",
                    line.authName, ch["realm"], uri, response, ch["nonce"]);
                continue;
            }
            co_return resp;
        }
        co_return std::nullopt; // not reached: the second attempt always returns above
    }

    // The phone's acceptance rule for a request or a Contact: the line's name or contact.
    bool isOurUser(const std::string& user) const {
        return !user.empty() && (user == cfg_.lines.front().name || user == contactUser());
    }

    std::string contactUser() const {
        const auto& line = cfg_.lines.front();
        return spec_.profile.contactUserIsLine || line.contact.empty() ? line.name : line.contact;
    }

    // This phone, its primary line and its call manager, as a REGISTER and an INVITE name them.
    PhoneOrigin origin() const {
        return {cfg_.processNodeName, cfg_.sipPort, link_->transport(), spec_.localIp, link_->localPort(), spec_.mac,
                cfg_.lines.front().name, contactUser()};
    }

    // Sends a request and waits for the final response with the same Call-ID and CSeq;
    // over UDP retransmits with T1 = 500 ms doubling up to T2 = 4 s.
    awaitable<std::optional<SipMessage>> transaction(const std::string& text, long cseq, std::string& why) {
        auto deadline = Clock::now() + opt_.sipTimeout;
        auto interval = std::chrono::milliseconds(500);
        try {
            co_await link_->send(text);
            auto nextRetx = Clock::now() + interval;
            for (;;) {
                auto wait = link_->transport() == Transport::Udp ? std::min(deadline, nextRetx) : deadline;
                auto msg = co_await link_->receive(wait);
                if (!msg) {
                    if (Clock::now() >= deadline) {
                        why = fmt::format("no answer to REGISTER within {} ms", opt_.sipTimeout.count());
                        co_return std::nullopt;
                    }
                    interval = std::min(interval * 2, std::chrono::milliseconds(4000));
                    nextRetx = Clock::now() + interval;
                    co_await link_->send(text);
                    continue;
                }
                if (msg->request) {
                    co_await answer(*msg);
                    continue;
                }
                if (msg->header("Call-ID").value_or("") != callId_ || msg->cseq() != cseq || msg->status < 200) {
                    co_await onCallResponse(*msg); // a call's, or a stale one (dropped there)
                    continue;
                }
                co_return msg;
            }
        } catch (const LinkClosed& e) {
            why = e.what();
            co_return std::nullopt;
        }
    }

    // Answers a request from the server as the phone does (reference: sip-wire §5, §6).
    awaitable<void> answer(const SipMessage& req) {
        if (req.method == "INVITE" || req.method == "ACK" || req.method == "BYE" || req.method == "CANCEL")
            co_return co_await onCallRequest(req);
        std::string tag = randomHex(rng_, 8);
        std::string resp;
        if (req.method == "NOTIFY") {
            // The phone's own acceptance rules: Request-URI user is the line name or contact.
            auto uri = parseSipUri(req.uri);
            auto event = text::toLower(text::trim(req.header("Event").value_or("")));
            if (!uri || !isOurUser(uri->user)) {
                resp = buildResponse(req, 404, "Not Found", tag);
            } else if (event.empty()) {
                resp = buildResponse(req, 400, "Missing Event", tag);
            } else {
                resp = buildResponse(req, 200, "OK", tag);
                if (event == "service-control") {
                    for (const auto& [k, v] : parseKeyValueBody(req.body))
                        if (k == "action") pendingAction_ = text::toLower(v);
                    log(fmt::format("service-control NOTIFY: action={}", pendingAction_));
                }
            }
        } else if (req.method == "OPTIONS") {
            resp = buildResponse(req, 200, "OK", tag);
        } else if (req.method == "ACK") {
            co_return;
        } else {
            resp = buildResponse(req, 501, "Not Implemented", tag);
        }
        if (link_->transport() == Transport::Udp)
            co_await link_->send(resp, link_->lastFrom());
        else
            co_await link_->send(resp);
    }

    // Registered: keep-alives at (granted - 5) s; obeys service-control restart/reset; places
    // the calls asked for and answers calls (the last boot only places). Stops at `until`, or
    // once `keepalives` keep-alives were answered and --wait-calls calls ended (when either is
    // not 0), and in the last boot only once its calls are over.
    awaitable<Next> stayRegistered(Clock::time_point until, int keepalives, bool last) {
        int answered = 0;
        if (last && !opt_.callDn.empty() && !callQueued_) {
            orders_.emplace_back(opt_.callDn, false);
            callQueued_ = true;
        }
        auto wanted = [&](Clock::time_point now) {
            if (!last || (keepalives == 0 && opt_.waitCalls == 0)) return now >= until;
            return answered >= keepalives && res_.callsEndedIn >= opt_.waitCalls;
        };
        auto interval = opt_.keepalive.count() > 0 ? opt_.keepalive
                                                    : std::chrono::milliseconds(std::max(1, granted_ - 5) * 1000);
        auto nextKeepalive = Clock::now() + interval;
        for (;;) {
            std::string lost; // set when the SIP connection is gone (no co_await in a handler)
            try {
                if (pendingAction_ == "restart" || pendingAction_ == "reset") {
                    bool reset = pendingAction_ == "reset";
                    pendingAction_.clear();
                    ++res_.restarts;
                    abandonCalls("the phone restarted");
                    co_return co_await unregisterAndReboot(reset);
                }
                if (pendingAction_ == "prt-report") {
                    // The phone builds its report and posts it to problemReportUploadURL.
                    pendingAction_.clear();
                    auto url = parseHttpUrl(cfg_.problemReportUrl);
                    std::string outcome = url ? co_await httpPostReport(spec_.localIp, *url, spec_.mac, spec_.profile.userAgent,
                                                                         opt_.fileTimeout)
                                              : "prt: no problemReportUploadURL in the config";
                    log("problem report upload: " + outcome);
                    if (outcome == "http 200") ++res_.reportsUploaded;
                }
                if (pendingAction_ == "apply-config") {
                    // As a real phone: fetch the config again and compare its versionStamp
                    // (the simulator keeps its lines; it logs what changed and stays registered).
                    pendingAction_.clear();
                    const auto sep = "SEP" + spec_.mac + ".cnf.xml";
                    auto cf = co_await fetch(kStepConfig, sep, true);
                    res_.currentStep = kStepRegistered;
                    if (cf.status != Fetch::Ok) {
                        log(fmt::format("apply-config: {} not fetched ({})", sep, cf.detail));
                    } else {
                        auto fresh = parsePhoneConfig(cf.body, spec_.profile.typemodel);
                        log(fmt::format("apply-config: versionStamp {} (was {})", fresh.versionStamp,
                                        fresh.versionStamp == cfg_.versionStamp ? "the same" : cfg_.versionStamp));
                        cfg_.versionStamp = fresh.versionStamp;
                    }
                } else if (!pendingAction_.empty()) {
                    // check-version: a real phone compares its load; the simulator has one.
                    pendingAction_.clear();
                }
                if (last) {
                    takeOrders();
                    co_await placeCalls();
                }
                co_await callTimers();
                auto now = Clock::now();
                if (wanted(now) && (!last || callsSettled())) co_return Next::Stop;
                if (now >= nextKeepalive) {
                    std::string why;
                    auto resp = co_await registerOnce(std::nullopt, false, cfg_.registerExpires, why);
                    if (!resp) throw LinkClosed("keep-alive: " + why);
                    if (resp->status != 200) {
                        fail(kStepRegistered, fmt::format("keep-alive answered {} {}", resp->status, resp->reason));
                        co_return Next::Failed;
                    }
                    ++res_.keepalives;
                    if (keepalives == 0 || ++answered < keepalives) co_await standbys();
                    nextKeepalive = Clock::now() + interval;
                    continue;
                }
                auto wakeAt = std::min(nextKeepalive, callsDue());
                if (until > now) wakeAt = std::min(wakeAt, until);
                idle_ = true; // a Switchboard order ends this wait (wake)
                std::optional<SipMessage> msg;
                try {
                    msg = co_await link_->receive(wakeAt);
                } catch (...) {
                    idle_ = false;
                    throw;
                }
                idle_ = false;
                if (msg && msg->request) co_await answer(*msg);
                else if (msg) co_await onCallResponse(*msg);
            } catch (const LinkClosed& e) {
                lost = e.what();
            }
            if (!lost.empty()) {
                if (!co_await reconnect(lost)) co_return Next::Failed;
                nextKeepalive = Clock::now() + interval;
            }
        }
    }

    // The call manager the phone talks to: one of its group, by priority.
    void useCallManager(std::size_t i) {
        if (i >= cfg_.callManagers.size()) return;
        cm_ = i;
        cfg_.processNodeName = cfg_.callManagers[i].host;
        cfg_.sipPort = cfg_.callManagers[i].sipPort;
        res_.callManager = fmt::format("{}:{}", cfg_.processNodeName, cfg_.sipPort);
    }

    // A standby keep-alive (Expires 0, cisco-keep-alive) to call manager `i` on a link of its
    // own; its answer's status, nullopt when it did not answer.
    awaitable<std::optional<int>> probe(std::size_t i) {
        const auto active = cm_;
        auto main = std::move(link_);
        std::optional<int> status;
        try {
            useCallManager(i);
            boost::system::error_code ec;
            auto addr = asio::ip::make_address(cfg_.processNodeName, ec);
            if (!ec) {
                link_ = std::make_unique<SipLink>(co_await asio::this_coro::executor, main->transport(), spec_.localIp, 0,
                                                  udp::endpoint(addr, static_cast<unsigned short>(cfg_.sipPort)));
                co_await link_->open();
                std::string why;
                if (auto resp = co_await registerOnce(std::nullopt, false, 0, why, true)) status = resp->status;
            }
        } catch (const LinkClosed&) {
        }
        if (link_) link_->close();
        link_ = std::move(main);
        useCallManager(active);
        co_return status;
    }

    // After each keep-alive: a phone on its primary keeps its first standby alive; a phone on
    // a standby asks the primary, and goes back to it once it answers (the token REFER to the
    // standby first, as CUCM's phones do).
    awaitable<void> standbys() {
        if (cfg_.callManagers.size() < 2) co_return;
        if (cm_ == 0) {
            auto status = co_await probe(1);
            if (status != 200) log(fmt::format("standby {}:{} did not take the keep-alive ({})", cfg_.callManagers[1].host,
                                               cfg_.callManagers[1].sipPort, status ? std::to_string(*status) : "no answer"));
            else if (!standbyAnswered_) log(fmt::format("standby {}:{} takes keep-alives", cfg_.callManagers[1].host,
                                                        cfg_.callManagers[1].sipPort));
            standbyAnswered_ = status == 200;
            co_return;
        }
        if (co_await probe(0) != 200) co_return;
        std::string why;
        auto text = tokenRefer(); // takes the next CSeq
        auto refer = co_await transaction(text, cseq_, why);
        log(fmt::format("primary {}:{} answers again: token REFER to {} answered {}", cfg_.callManagers[0].host,
                        cfg_.callManagers[0].sipPort, res_.callManager, refer ? std::to_string(refer->status) : why));
        const auto was = cm_;
        const auto transport = link_->transport();
        link_->close();
        useCallManager(0);
        try {
            co_await openLink(transport);
            auto resp = co_await registerOnce(reasonFor(lastAlarm_, lastReason_), true, cfg_.registerExpires, why);
            if (resp && resp->status == 200) {
                granted_ = grantedExpires(*resp);
                ++res_.failbacks;
                log(fmt::format("failed back to {}", res_.callManager));
                co_return;
            }
        } catch (const LinkClosed&) {
        }
        useCallManager(was); // the primary did not take it after all: the next keep-alive reconnects
    }

    // REFER urn:X-cisco-remotecc:token-registration: the phone asks the standby for the token
    // before it registers to the primary again (sip-wire.md, S1/S8).
    std::string tokenRefer() {
        std::string hostport = fmt::format("{}:{}", spec_.localIp, link_->localPort());
        std::string server = cfg_.processNodeName + (cfg_.sipPort != 5060 ? ":" + std::to_string(cfg_.sipPort) : "");
        std::string transport = link_->transport() == Transport::Tcp ? "TCP" : "UDP";
        std::vector<std::pair<std::string, std::string>> h{
            {"Via", fmt::format("SIP/2.0/{} {};branch=z9hG4bK{}", transport, hostport, randomHex(rng_, 8))},
            {"From", fmt::format("<sip:{}@{}>;tag={}", cfg_.lines.front().name, cfg_.processNodeName, fromTag_)},
            {"To", fmt::format("<sip:{}>", server)},
            {"Call-ID", callId_},
            {"Max-Forwards", "70"},
            {"CSeq", fmt::format("{} REFER", ++cseq_)},
            {"User-Agent", std::string(spec_.profile.userAgent)},
            {"Contact", fmt::format("<sip:{}@{};transport={}>", contactUser(), hostport, toString(link_->transport()))},
            {"Refer-To", "<urn:X-cisco-remotecc:token-registration>"},
            {"Referred-By", fmt::format("<sip:{}@{}>", cfg_.lines.front().name, cfg_.processNodeName)},
        };
        return buildRequest("REFER", "sip:" + server, h, "");
    }

    // The server closed the connection (or stopped answering): as a phone does, register
    // again with Last=cm-closed-tcp, once a second for a few seconds (a restarting server).
    awaitable<bool> reconnect(const std::string& lost) {
        log(fmt::format("SIP connection lost ({}); registering again with Last=cm-closed-tcp", lost));
        lastAlarm_ = 14;
        lastReason_ = "cm-closed-tcp";
        asio::steady_timer pause(co_await asio::this_coro::executor);
        const auto transport = link_->transport();
        const auto was = cm_;
        for (int attempt = 1; attempt <= kReconnectTries; ++attempt) {
            pause.expires_after(std::chrono::seconds(1));
            co_await pause.async_wait(asio::use_awaitable);
            // The call managers in priority order: the first that answers takes the phone.
            for (std::size_t i = 0; i < cfg_.callManagers.size(); ++i) {
                useCallManager(i);
                bool opened = true;
                try {
                    co_await openLink(transport);
                } catch (const LinkClosed&) {
                    opened = false;
                }
                if (!opened) continue;
                std::string why;
                auto resp = co_await registerOnce(reasonFor(lastAlarm_, lastReason_), true, cfg_.registerExpires, why);
                if (!resp || resp->status != 200) continue;
                granted_ = grantedExpires(*resp);
                ++res_.reconnects;
                if (i > was) ++res_.failovers;
                if (i < was) ++res_.failbacks;
                log(fmt::format("registered again after {} tries, to {} (call manager {} of {})", attempt, res_.callManager,
                                i + 1, cfg_.callManagers.size()));
                co_return true;
            }
        }
        useCallManager(was);
        fail(kStepRegistered, fmt::format("SIP connection lost ({}); not registered again after {} tries", lost,
                                          kReconnectTries));
        co_return false;
    }

    awaitable<Next> unregisterAndReboot(bool reset) {
        lastAlarm_ = 23;
        lastReason_ = reset ? "reset-reset" : "reset-restart";
        std::string why;
        auto resp = co_await registerOnce(reasonFor(lastAlarm_, lastReason_), false, 0, why);
        if (!resp || resp->status != 200) {
            fail(kStepRegistered, resp ? fmt::format("unregister answered {} {}", resp->status, resp->reason)
                                       : "unregister: " + why);
            co_return Next::Failed;
        }
        log(fmt::format("unregistered (Last={}); rebooting", lastReason_));
        link_->close();
        // A reset clears the phone's registration identity; a restart keeps none either
        // (the Call-ID is regenerated at boot on real phones [I]).
        callId_.clear();
        co_return Next::Reboot;
    }

    // ---------------------------------------------------------------------------------------
    // Calls (README "Phone simulator", calls): the phone places the calls it is asked for and
    // answers every call to it, several at once. Each call is a small state machine moved on
    // by the messages that arrive and by its own due time; nothing here waits for an answer,
    // so keep-alives, NOTIFYs and the other calls go on meanwhile. Wire behaviour as
    // tests/integration/sip_phone.py: in-dialog requests go to the peer's Contact through the
    // route set of the 2xx (RFC 3261 12.1.2, 12.2.1.1); over UDP requests and a UAS's final
    // answers are sent again at T1 = 500 ms doubling to T2 = 4 s until answered.

    struct Call {
        enum State {
            Calling,    ///< out: INVITE sent, nothing back yet
            Proceeding, ///< out: a provisional answer came
            Holding,    ///< out: answered and ACKed; BYE at `due`
            Hanging,    ///< out: BYE sent
            Cancelling, ///< out: CANCEL sent (not answered in time)
            Ringing,    ///< in: 180 sent; 200 at `due`
            Answered,   ///< in: 200 sent, waiting for the ACK
            Talking,    ///< in: ACKed, waiting for the BYE
            Refused,    ///< in: 486/487 sent, waiting for the ACK
        };
        State state = Calling;
        bool outgoing = true;
        bool fleet = false;                   ///< a Switchboard order
        std::string peer;                     ///< the number called, or the caller's From user
        std::string callId;
        std::string localTag;
        std::string from, to;                 ///< out: as sent; `to` gets the remote tag from the 2xx
        std::string requestUri, branch;       ///< out: the INVITE's
        long cseq = 101;                      ///< out: the INVITE's, then the BYE's
        std::vector<std::string> routes;      ///< out: the 2xx's Record-Route, reversed
        std::string target;                   ///< out: the 2xx's Contact URI
        std::optional<udp::endpoint> next;    ///< out over UDP: where in-dialog requests go
        std::string last;                     ///< what goes again over UDP (and for a retransmitted INVITE)
        std::string ack;                      ///< out: the ACK of the 2xx, again for each 2xx again
        SipMessage invite;                    ///< in: responses are built from it
        std::optional<udp::endpoint> replyTo; ///< in over UDP: where responses go
        Clock::time_point started = Clock::now(), due = Clock::time_point::max(), retxAt = Clock::time_point::max();
        std::chrono::milliseconds retx{500};
        std::size_t record = 0;               ///< out: index into res_.calls
    };
    using CallIt = std::map<std::string, Call>::iterator;
    static constexpr std::size_t kMaxCalls = 64;              ///< calls one phone is in at once
    static constexpr auto kT1 = std::chrono::milliseconds(500);
    static constexpr auto kT2 = std::chrono::milliseconds(4000);
    static constexpr auto kAckWait = kT1 * 64;               ///< Timer H: a final answer's ACK

    bool udp() const { return link_ && link_->transport() == Transport::Udp; }

    // The next UDP retransmission of `c.last` from now on (none over TCP).
    void armRetransmit(Call& c, bool first) {
        c.retx = first ? kT1 : std::min(c.retx * 2, kT2);
        c.retxAt = udp() ? Clock::now() + c.retx : Clock::time_point::max();
    }

    // Where a request inside the dialog goes over UDP: the first Route (labcm), else the
    // peer's Contact; nullopt (the link's server) when that is not an address.
    static std::optional<udp::endpoint> nextHop(const std::vector<std::string>& routes, const std::string& target) {
        auto uri = parseSipUri(routes.empty() ? target : routes.front());
        boost::system::error_code ec;
        if (!uri) return std::nullopt;
        auto addr = asio::ip::make_address(uri->host, ec);
        if (ec) return std::nullopt;
        return udp::endpoint(addr, static_cast<unsigned short>(uri->port ? uri->port : 5060));
    }

    void takeOrders() {
        auto* sb = opt_.switchboard;
        if (!sb || spec_.index >= sb->orders.size()) return;
        auto& q = sb->orders[spec_.index];
        while (!q.empty()) {
            orders_.emplace_back(std::move(q.front()), true);
            q.pop_front();
        }
    }

    // Done when nothing is asked, placed or ringing, and the fleet's calls are over.
    bool callsSettled() const {
        if (!orders_.empty() || !calls_.empty()) return false;
        return !opt_.switchboard || opt_.switchboard->over();
    }

    Clock::time_point callsDue() const {
        auto t = Clock::time_point::max();
        for (const auto& [id, c] : calls_) t = std::min({t, c.due, c.retxAt});
        return t;
    }

    void recordCall(Call& c, const std::string& failure) {
        if (!c.outgoing || c.record >= res_.calls.size()) return;
        auto& r = res_.calls[c.record];
        if (r.failure.empty()) r.failure = failure;
    }

    // The call is over: its record closed, the Switchboard told, the call forgotten.
    void endCall(CallIt it, const std::string& failure = {}) {
        auto& c = it->second;
        if (c.outgoing) {
            recordCall(c, failure);
            if (c.record < res_.calls.size()) res_.calls[c.record].finished = true;
            log(fmt::format("call to {}: {}", c.peer, failure.empty() ? "over" : "FAILED " + res_.calls[c.record].failure));
            fleetCallOver(c.fleet);
        } else {
            ++res_.callsEndedIn;
            log(fmt::format("call from {}: over{}", c.peer, failure.empty() ? "" : " (" + failure + ")"));
        }
        calls_.erase(it);
    }

    // A Switchboard order is over (the last one wakes every phone: they may stop now).
    void fleetCallOver(bool fleet) {
        auto* sb = opt_.switchboard;
        if (!sb || !fleet || sb->outstanding == 0) return;
        if (--sb->outstanding == 0 && sb->closed) sb->wakeAll();
    }

    void abandonCalls(const std::string& why) {
        while (!calls_.empty()) endCall(calls_.begin(), why);
    }

    awaitable<void> placeCalls() {
        while (!orders_.empty()) {
            auto [dn, fleet] = std::move(orders_.front());
            orders_.pop_front();
            co_await placeCall(dn, fleet);
        }
    }

    awaitable<void> placeCall(const std::string& dn, bool fleet) {
        res_.calls.push_back(CallRecord{dn});
        if (calls_.size() >= kMaxCalls) {
            res_.calls.back().finished = true;
            res_.calls.back().failure = fmt::format("not placed: the phone is in {} calls already", kMaxCalls);
            fleetCallOver(fleet);
            co_return;
        }
        InviteRequest r;
        static_cast<PhoneOrigin&>(r) = origin();
        r.callee = dn;
        r.callId = ciscoCallId(spec_.mac, static_cast<unsigned>(rng_()), static_cast<unsigned>(rng_()), spec_.localIp);
        r.fromTag = text::toLower(spec_.mac) + randomHex(rng_, 6) + "-" + randomHex(rng_, 8);
        r.branch = "z9hG4bK" + randomHex(rng_, 8);
        r.date = rfc1123Date(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count());
        r.sdp = sdpBody(spec_.localIp, nextMediaPort(), std::to_string(rng_() % 100000), true);
        std::string text = buildInvite(spec_.profile, r);
        SipMessage sent; // the headers later requests repeat, exactly as sent
        try {
            sent = parseSipMessage(text);
        } catch (const SipParseError& e) {
            res_.calls.back().finished = true;
            res_.calls.back().failure = fmt::format("not placed: '{}' makes no valid INVITE ({})", dn, e.what());
            fleetCallOver(fleet);
            co_return;
        }
        Call c;
        c.fleet = fleet;
        c.peer = dn;
        c.callId = r.callId;
        c.localTag = r.fromTag;
        c.from = std::string(sent.header("From").value_or(""));
        c.to = std::string(sent.header("To").value_or(""));
        c.requestUri = sent.uri;
        c.branch = r.branch;
        c.cseq = r.cseq;
        c.last = text;
        c.record = res_.calls.size() - 1;
        c.due = c.started + opt_.callTimeout;
        armRetransmit(c, true);
        res_.calls.back().placed = true;
        calls_.insert_or_assign(r.callId, std::move(c));
        log(fmt::format("call to {}: INVITE sent", dn));
        co_await link_->send(text);
    }

    DialogRequest dialogRequest(const Call& c, std::string method, long cseq, std::string branch) const {
        DialogRequest d;
        d.method = std::move(method);
        d.requestUri = c.target.empty() ? c.requestUri : c.target;
        d.routes = c.routes;
        d.from = c.from;
        d.to = c.to;
        d.callId = c.callId;
        d.cseq = cseq;
        d.transport = link_->transport();
        d.localIp = spec_.localIp;
        d.localPort = link_->localPort();
        d.branch = std::move(branch);
        d.userAgent = std::string(spec_.profile.userAgent);
        return d;
    }

    // A response to one of the phone's calls (anything else is dropped).
    awaitable<void> onCallResponse(const SipMessage& resp) {
        auto it = calls_.find(std::string(resp.header("Call-ID").value_or("")));
        if (it == calls_.end() || !it->second.outgoing) co_return;
        auto& c = it->second;
        const auto method = resp.cseqMethod();
        if (method == "CANCEL") {
            if (c.state == Call::Cancelling && resp.status >= 200) c.retxAt = Clock::time_point::max();
            co_return;
        }
        if (method == "BYE") {
            if (c.state != Call::Hanging || resp.status < 200 || resp.cseq() != c.cseq) co_return;
            res_.calls[c.record].byeStatus = resp.status;
            endCall(it, resp.status == 200 ? "" : fmt::format("BYE answered {} {}", resp.status, resp.reason));
            co_return;
        }
        if (method != "INVITE") co_return;
        if (resp.status < 200) {
            if (c.state == Call::Calling) {
                c.state = Call::Proceeding;
                c.retxAt = Clock::time_point::max();
            }
            co_return;
        }
        if (resp.status < 300) {
            if (c.state == Call::Holding || c.state == Call::Hanging) { // the 2xx again: our ACK was lost
                if (!c.ack.empty()) co_await link_->send(c.ack, c.next);
                co_return;
            }
            if (c.state != Call::Calling && c.state != Call::Proceeding && c.state != Call::Cancelling) co_return;
            auto& rec = res_.calls[c.record];
            rec.status = resp.status;
            rec.reason = resp.reason;
            rec.setupMs = msSince(c.started);
            c.to = std::string(resp.header("To").value_or(c.to));
            c.routes = routeSet(resp, true);
            c.target = nameAddrUri(resp.header("Contact").value_or("")).value_or(c.requestUri);
            c.next = nextHop(c.routes, c.target);
            c.ack = buildDialogRequest(dialogRequest(c, "ACK", c.cseq, "z9hG4bK" + randomHex(rng_, 8)));
            co_await link_->send(c.ack, c.next);
            if (c.state == Call::Cancelling) { // answered as the CANCEL crossed it: over at once
                log(fmt::format("call to {}: answered {} after the CANCEL; hanging up", c.peer, resp.status));
                co_return co_await hangUp(it);
            }
            log(fmt::format("call to {}: answered {} in {:.1f} ms; hanging up in {} ms", c.peer, resp.status, rec.setupMs,
                            opt_.callHold.count()));
            c.state = Call::Holding;
            c.retxAt = Clock::time_point::max();
            c.due = Clock::now() + opt_.callHold;
            co_return;
        }
        // A final refusal (486, 404, 487 after our CANCEL ...): ACKed hop by hop, same branch.
        if (c.state != Call::Calling && c.state != Call::Proceeding && c.state != Call::Cancelling) co_return;
        auto& rec = res_.calls[c.record];
        rec.status = resp.status;
        rec.reason = resp.reason;
        DialogRequest ack = dialogRequest(c, "ACK", c.cseq, c.branch);
        ack.to = std::string(resp.header("To").value_or(c.to));
        co_await link_->send(buildDialogRequest(ack));
        endCall(it, fmt::format("answered {} {}", resp.status, resp.reason));
    }

    awaitable<void> hangUp(CallIt it) {
        auto& c = it->second;
        c.cseq += 1;
        c.last = buildDialogRequest(dialogRequest(c, "BYE", c.cseq, "z9hG4bK" + randomHex(rng_, 8)));
        c.state = Call::Hanging;
        c.due = Clock::now() + opt_.sipTimeout;
        armRetransmit(c, true);
        co_await link_->send(c.last, c.next);
    }

    // What is due: UDP retransmissions, the answer of a ringing call, the BYE of a held one,
    // the end of a wait.
    awaitable<void> callTimers() {
        auto now = Clock::now();
        for (auto it = calls_.begin(); it != calls_.end();) {
            auto cur = it++;
            auto& c = cur->second;
            if (c.retxAt <= now && !c.last.empty()) {
                armRetransmit(c, false);
                co_await link_->send(c.last, c.outgoing ? (c.state == Call::Hanging ? c.next : std::nullopt) : c.replyTo);
            }
            if (c.due > now) continue;
            switch (c.state) {
            case Call::Calling:
                endCall(cur, fmt::format("no answer to the INVITE within {} ms", opt_.callTimeout.count()));
                break;
            case Call::Proceeding: {
                recordCall(c, fmt::format("not answered within {} ms (cancelled)", opt_.callTimeout.count()));
                c.last = buildDialogRequest(dialogRequest(c, "CANCEL", c.cseq, c.branch));
                c.state = Call::Cancelling;
                c.due = now + kAckWait; // the 487 (or a crossing 200) comes before this
                armRetransmit(c, true);
                co_await link_->send(c.last);
                break;
            }
            case Call::Holding: co_await hangUp(cur); break;
            case Call::Hanging: endCall(cur, fmt::format("no answer to the BYE within {} ms", opt_.sipTimeout.count())); break;
            case Call::Cancelling: endCall(cur, "no final answer after the CANCEL"); break;
            case Call::Ringing: co_await answerCall(cur); break;
            case Call::Answered: endCall(cur, "no ACK to the 200 OK"); break;
            case Call::Talking: c.due = Clock::time_point::max(); break;
            case Call::Refused: endCall(cur, "no ACK to the refusal"); break;
            }
        }
    }

    std::vector<std::pair<std::string, std::string>> uasHeaders(const SipMessage& invite, bool withContact) const {
        std::vector<std::pair<std::string, std::string>> h;
        for (auto rr : invite.headersNamed("Record-Route")) h.emplace_back("Record-Route", std::string(rr));
        if (withContact)
            h.emplace_back("Contact", ciscoContact(spec_.profile, contactUser(), spec_.localIp, link_->localPort(),
                                                   link_->transport(), spec_.mac));
        h.emplace_back("Server", std::string(spec_.profile.userAgent));
        return h;
    }

    awaitable<void> answerCall(CallIt it) {
        auto& c = it->second;
        auto h = uasHeaders(c.invite, true);
        h.emplace_back("Allow", "ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE,INFO");
        h.emplace_back("Content-Type", "application/sdp");
        c.last = buildResponse(c.invite, 200, "OK", c.localTag, h,
                               sdpBody(spec_.localIp, nextMediaPort(), std::to_string(rng_() % 100000), false));
        c.state = Call::Answered;
        c.due = Clock::now() + kAckWait;
        armRetransmit(c, true);
        log(fmt::format("call from {}: answered", c.peer));
        co_await link_->send(c.last, c.replyTo);
    }

    // INVITE, ACK, BYE and CANCEL from the server (reference: tests/integration/sip_phone.py).
    awaitable<void> onCallRequest(const SipMessage& req) {
        std::optional<udp::endpoint> replyTo;
        if (udp()) replyTo = link_->lastFrom();
        const std::string callId(req.header("Call-ID").value_or(""));
        auto it = calls_.find(callId);
        const bool inDialog = headerParam(req.header("To").value_or(""), "tag").has_value();
        if (req.method == "ACK") {
            if (it == calls_.end() || it->second.outgoing) co_return;
            auto& c = it->second;
            if (c.state == Call::Answered) {
                c.state = Call::Talking;
                c.due = c.retxAt = Clock::time_point::max();
                ++res_.callsAnsweredIn;
            } else if (c.state == Call::Refused) {
                endCall(it);
            }
            co_return;
        }
        if (req.method == "BYE") {
            if (it == calls_.end()) {
                co_await link_->send(buildResponse(req, 481, "Call/Transaction Does Not Exist", randomHex(rng_, 8)), replyTo);
                co_return;
            }
            co_await link_->send(buildResponse(req, 200, "OK", ""), replyTo);
            if (it->second.outgoing) {
                if (it->second.state == Call::Holding || it->second.state == Call::Hanging) endCall(it); // hung up by the other side
            } else {
                endCall(it);
            }
            co_return;
        }
        if (req.method == "CANCEL") {
            if (it == calls_.end() || it->second.outgoing) {
                co_await link_->send(buildResponse(req, 481, "Call/Transaction Does Not Exist", randomHex(rng_, 8)), replyTo);
                co_return;
            }
            auto& c = it->second;
            co_await link_->send(buildResponse(req, 200, "OK", c.localTag), replyTo);
            if (c.state == Call::Ringing) {
                c.last = buildResponse(c.invite, 487, "Request Terminated", c.localTag, uasHeaders(c.invite, false));
                c.state = Call::Refused;
                c.due = Clock::now() + kAckWait;
                armRetransmit(c, true);
                log(fmt::format("call from {}: cancelled by the caller", c.peer));
                co_await link_->send(c.last, c.replyTo);
            }
            co_return;
        }
        // INVITE: a retransmission, a re-INVITE inside a call, or a new call.
        if (it != calls_.end() && !inDialog) {
            if (!it->second.outgoing && !it->second.last.empty()) co_await link_->send(it->second.last, replyTo);
            co_return;
        }
        if (inDialog) {
            if (it == calls_.end()) {
                co_await link_->send(buildResponse(req, 481, "Call/Transaction Does Not Exist", ""), replyTo);
                co_return;
            }
            auto h = uasHeaders(req, true);
            h.emplace_back("Content-Type", "application/sdp");
            co_await link_->send(buildResponse(req, 200, "OK", "", h,
                                               sdpBody(spec_.localIp, nextMediaPort(), std::to_string(rng_() % 100000), false)),
                                 replyTo);
            co_return;
        }
        auto uri = parseSipUri(req.uri);
        std::string tag = randomHex(rng_, 8);
        if (!uri || !isOurUser(uri->user)) {
            co_await link_->send(buildResponse(req, 404, "Not Found", tag), replyTo);
            co_return;
        }
        if (calls_.size() >= kMaxCalls) {
            co_await link_->send(buildResponse(req, 486, "Busy Here", tag), replyTo);
            co_return;
        }
        ++res_.callsReceived;
        Call c;
        c.outgoing = false;
        c.peer = parseSipUri(req.header("From").value_or("")).value_or(SipUri{}).user;
        c.callId = callId;
        c.localTag = tag;
        c.invite = req;
        c.replyTo = replyTo;
        if (opt_.answer == AnswerMode::Busy) {
            c.last = buildResponse(req, 486, "Busy Here", tag, uasHeaders(req, false));
            c.state = Call::Refused;
            c.due = Clock::now() + kAckWait;
            log(fmt::format("call from {}: busy", c.peer));
        } else {
            c.last = buildResponse(req, 180, "Ringing", tag, uasHeaders(req, true));
            c.state = Call::Ringing;
            c.due = Clock::now() + opt_.answerDelay;
            log(fmt::format("call from {}: ringing", c.peer));
        }
        std::string first = c.last;
        auto& placed = calls_.insert_or_assign(callId, std::move(c)).first->second;
        if (placed.state == Call::Refused) armRetransmit(placed, true);
        co_await link_->send(first, replyTo);
    }

    int nextMediaPort() {
        mediaPort_ = mediaPort_ >= 32766 ? 16384 : mediaPort_ + 2;
        return mediaPort_;
    }

    PhoneSpec spec_;
    Target target_;
    RunOptions opt_;
    PhoneResult& res_;
    std::mt19937 rng_;
    int boot_ = 0;
    Clock::time_point bootStart_ = Clock::now();
    PhoneConfig cfg_;
    std::unique_ptr<SipLink> link_;
    std::string callId_, fromTag_, sessionId_;
    long cseq_ = 100;
    int granted_ = 120;
    std::size_t cm_ = 0; ///< the call manager of the group the phone is registered to
    bool standbyAnswered_ = false; ///< the last standby keep-alive was answered 200
    int lastAlarm_ = 25;
    int autoRegTries_ = 0;
    std::string relayIp_;
    static constexpr int kAutoRegTries = 2;
    static constexpr int kReconnectTries = 5;
    std::string lastReason_ = "initialized";
    std::string pendingAction_;
    std::map<std::string, Call> calls_;                  ///< by Call-ID
    std::deque<std::pair<std::string, bool>> orders_;    ///< numbers to call; true: a Switchboard order
    bool callQueued_ = false;                            ///< --call was queued (once per run)
    bool idle_ = false;                                  ///< waiting in stayRegistered (wake() may end it)
    int mediaPort_ = 16382;
};

} // namespace

awaitable<void> runPhone(PhoneSpec spec, Target target, RunOptions opt, PhoneResult& result) {
    Phone phone(std::move(spec), std::move(target), std::move(opt), result);
    co_await phone.run();
}

} // namespace labcm::phone
