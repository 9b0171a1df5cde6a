#include "dhcp/service.h"

#include "core/clock.h"
#include "core/test_faults.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/pktinfo.h"
#include "core/thread_name.h"
#include "dhcp/dhcp_store.h"
#include "store/seen_phone_store.h"

namespace labcm::dhcp {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// Every IPv4 address of the host (for the server-identifier check).
std::set<Addr> hostAddresses() {
    std::set<Addr> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
            out.insert(ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr));
    ::freeifaddrs(list);
    return out;
}

std::optional<Addr> interfaceAddress(const std::string& name) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    std::optional<Addr> out;
    for (auto* i = list; i && !out; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && name == i->ifa_name)
            out = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    ::freeifaddrs(list);
    return out;
}

} // namespace

DhcpService::DhcpService(store::Writer& writer, EventBus& bus)
    : io_(std::make_shared<asio::io_context>(1)), work_(asio::make_work_guard(*io_)), writer_(writer), socket_(*io_),
      sweepTimer_(*io_), engine_(bus, wallClockMs, [](Addr a) { return hostAddresses().contains(a); }),
      thread_([io = io_] {
          nameThisThread("labcm-dhcp");
          for (;;) {
              try {
                  io->run();
                  return;
              } catch (const std::exception& e) { // a handler threw: logged, the thread goes on
                  spdlog::error("dhcp: {}", e.what());
              }
          }
      }) {}

DhcpService::~DhcpService() {
    onThread([this] { stopHere(); });
    work_.reset();
    io_->stop();
    thread_.join();
}

template <class F>
auto DhcpService::onThread(F f) -> decltype(f()) {
    if (std::this_thread::get_id() == thread_.get_id()) return f();
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(*io_, [&task] { task(); });
    return result.get();
}

bool DhcpService::running() {
    return onThread([this] { return socket_.is_open(); });
}

udp::endpoint DhcpService::localEndpoint() {
    return onThread([this] {
        boost::system::error_code ec;
        return socket_.local_endpoint(ec);
    });
}

std::optional<ServiceStatus> DhcpService::status() const {
    std::lock_guard lock(statusMutex_);
    return status_;
}

void DhcpService::publishStatus() {
    std::optional<ServiceStatus> s;
    if (socket_.is_open()) {
        boost::system::error_code ec;
        s = ServiceStatus{socket_.local_endpoint(ec), engine_.counters(), engine_.allocator().leases().size(), overflow_,
                          staleDiscovers_};
    }
    std::lock_guard lock(statusMutex_);
    status_ = std::move(s);
}

void DhcpService::setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs) {
    onThread([&] { engine_.setDevices(std::move(reservations), std::move(knownMacs)); });
}

void DhcpService::forget(Addr address) {
    onThread([&] { engine_.forget(address); });
}

void DhcpService::stop() {
    onThread([this] { stopHere(); });
}

void DhcpService::stopHere() {
    boost::system::error_code ec;
    socket_.close(ec);
    sweepTimer_.cancel();
    sweepArmed_ = false;
    publishStatus();
}

void DhcpService::armSweep(std::chrono::steady_clock::duration in) {
    sweepArmed_ = true;
    sweepTimer_.expires_after(in);
    sweepTimer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !socket_.is_open()) return;
        auto ended = engine_.sweep(limits::kDhcpSweepBatch);
        const bool more = ended.size() == limits::kDhcpSweepBatch;
        if (!ended.empty()) saveBehind(std::move(ended), "expiry");
        publishStatus();
        armSweep(more ? std::chrono::steady_clock::duration::zero() : limits::kDhcpSweepInterval);
    });
}

void DhcpService::open(const ServiceConfig& config) {
    stopHere();
    udp::socket s(*io_);
    s.open(udp::v4());
    s.set_option(asio::socket_base::reuse_address(true));
    s.set_option(asio::socket_base::broadcast(true));
    int on = 1;
    if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0)
        throw std::runtime_error(fmt::format("DHCP: IP_PKTINFO: {}", std::strerror(errno)));
    // When each datagram arrived (stale DISCOVERs) and how many the kernel dropped (counted).
    if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0)
        throw std::runtime_error(fmt::format("DHCP: SO_TIMESTAMPNS/SO_RXQ_OVFL: {}", std::strerror(errno)));
    udp::endpoint at;
    if (!config.interface.empty()) {
        if (::if_nametoindex(config.interface.c_str()) == 0)
            throw std::runtime_error(fmt::format("DHCP: interface '{}' does not exist (setting dhcp_interface)", config.interface));
        if (!interfaceAddress(config.interface))
            throw std::runtime_error(fmt::format("DHCP: interface '{}' has no IPv4 address; give it the address of the "
                                                 "phones' network (setting dhcp_interface)", config.interface));
        if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, config.interface.c_str(),
                         static_cast<socklen_t>(config.interface.size())) != 0)
            throw std::runtime_error(fmt::format("DHCP: cannot bind to interface '{}': {} (needs root or CAP_NET_RAW)",
                                                 config.interface, std::strerror(errno)));
        at = udp::endpoint(asio::ip::address_v4::any(), config.port);
    } else {
        boost::system::error_code ec;
        auto a = asio::ip::make_address_v4(config.bindAddress, ec);
        if (ec) throw std::runtime_error(fmt::format("DHCP: bind address '{}' is not IPv4", config.bindAddress));
        at = udp::endpoint(a, config.port);
    }
    boost::system::error_code ec;
    s.bind(at, ec);
    if (ec)
        throw std::runtime_error(fmt::format("DHCP: cannot listen on {}:{}{}: {}{}", at.address().to_string(), at.port(),
                                             config.interface.empty() ? "" : " on " + config.interface, ec.message(),
                                             at.port() < 1024 ? " (port 67 needs root or CAP_NET_BIND_SERVICE; is another "
                                                                "DHCP server running?)"
                                                              : ""));
    s.non_blocking(true);
    socket_ = std::move(s);
    overflowSeen_ = 0;
    config_ = config;
    waitRead();
}

void DhcpService::configure(const ServiceConfig& config, std::vector<Pool> pools,
                            const std::function<std::vector<Lease>()>& loadLeases) {
    std::optional<std::vector<Lease>> leases;
    if (!onThread([this] { return leasesLoaded_; })) leases = loadLeases();
    onThread([&] {
        if (leases) {
            engine_.loadLeases(*leases);
            leasesLoaded_ = true;
        }
        if (!socket_.is_open() || !(config == config_)) {
            if (socket_.is_open() && config.interface == config_.interface && config.bindAddress == config_.bindAddress &&
                config.port == config_.port)
                config_ = config; // only cisco-only / the TFTP default changed: keep the socket
            else
                open(config);
        }
        engine_.setPolicy({config.port, config.ciscoOnly, config.tftpDefault});
        engine_.setPools(std::move(pools));
        if (!sweepArmed_) armSweep(std::chrono::steady_clock::duration::zero()); // leases that ended while labcm was off
        publishStatus();
    });
}

void DhcpService::waitRead() {
    socket_.async_wait(udp::socket::wait_read, [this](boost::system::error_code ec) {
        if (ec) return;
        readAll();
        if (socket_.is_open()) waitRead();
    });
}

void DhcpService::readAll() {
    using namespace std::chrono;
    if (!std::exchange(stallDone_, true) && test_faults::active(test_faults::Fault::DhcpStall))
        std::this_thread::sleep_for(test_faults::kDhcpStall);
    const auto now = system_clock::now().time_since_epoch();
    std::vector<Request> discovers; // answered after the rest of the batch
    for (int n = 0; n < limits::kDhcpReadBatch; ++n) {
        std::array<std::uint8_t, 1500> buf{};
        auto d = net::receiveWithPktinfo(socket_.native_handle(), buf, {});
        if (!d) break; // drained
        if (d->overflowSoFar) { // the kernel's count only grows (it wraps at 2^32)
            overflow_ += *d->overflowSoFar - overflowSeen_;
            overflowSeen_ = *d->overflowSoFar;
        }
        if (!d->from.address().is_v4()) continue;
        auto in = engine_.accept({std::span<const std::uint8_t>(buf.data(), d->size), d->from.address().to_v4().to_uint(),
                                  d->specDst.to_uint(), d->ifindex});
        if (!in) continue;
        if (in->type != MessageType::Discover) {
            carryOut(engine_.answer(*in));
        } else if (d->receivedAt && now - *d->receivedAt > limits::kDhcpDiscoverMaxAge) {
            ++staleDiscovers_;
        } else {
            discovers.push_back(std::move(*in));
        }
    }
    for (const auto& in : discovers) carryOut(engine_.answer(in));
    commitBatch();
    publishStatus();
}

void DhcpService::carryOut(Decision d) {
    if (d.send) send(*d.send);
    if (d.saveBehind) saveBehind({*d.saveBehind}, d.saveBehind->state == LeaseState::Declined ? "decline" : "release");
    if (d.commit) commits_.push_back(std::move(*d.commit)); // committed at the end of the batch
}

void DhcpService::send(const Send& s) {
    using Address = boost::asio::ip::address_v4;
    auto bytes = serialize(s.packet);
    udp::endpoint to(Address(s.to), s.port);
    if (auto err = net::sendWithPktinfo(socket_.native_handle(), bytes, to, Address(s.local), s.ifindex); !err.empty())
        spdlog::warn("dhcp mac={}: {} not sent to {}: {}", s.mac, toString(*s.packet.messageType()), to.address().to_string(), err);
}

void DhcpService::commitBatch() {
    if (commits_.empty()) return;
    // One writer job for the batch's leases: one savepoint, one completion, one wake-up here.
    auto shared = std::make_shared<const std::vector<Commit>>(std::exchange(commits_, {}));
    auto job = [shared](store::Db& db) {
        dhcp::DhcpStore ds(db);
        for (const auto& c : *shared) {
            const auto& save = c.granted.save;
            for (const auto& l : save) ds.saveLease(l);
            const auto& in = c.request;
            if (c.recordSighting)
                store::SeenPhoneStore(db).record({in.mac, in.model, "dhcp", in.vendorClass, addrText(save.front().address), 0, 0},
                                                 save.front().updatedMs);
        }
    };
    auto done = [this, io = std::weak_ptr(io_), shared](store::Outcome<std::monostate> o) {
        if (!o.error && test_faults::active(test_faults::Fault::DhcpAfterCommit)) {
            spdlog::critical("dhcp: LABCM_TEST_FAULT=dhcp-after-commit: exiting after the commit, before the ACK");
            std::_Exit(86);
        }
        if (auto target = io.lock())
            asio::post(*target, [this, shared, ok = !o.error] {
                for (const auto& c : *shared)
                    if (auto ack = engine_.committed(c, ok); ack && socket_.is_open()) send(*ack);
                publishStatus();
            });
    };
    try {
        writer_.submit(std::move(job), std::move(done));
    } catch (const std::exception& e) { // the writer's queue is full: no ACK, the clients retry
        spdlog::warn("dhcp: {} lease(s) not saved (mac={} first): {}", shared->size(), shared->front().request.mac, e.what());
        for (const auto& c : *shared) engine_.committed(c, false);
    }
}

void DhcpService::saveBehind(std::vector<Lease> leases, const char* what) {
    // No reply waits on these: a lost one only keeps an address out longer (or shows it bound).
    auto shared = std::make_shared<const std::vector<Lease>>(std::move(leases));
    try {
        writer_.submit(
            [shared](store::Db& db) {
                dhcp::DhcpStore ds(db);
                for (const auto& l : *shared) ds.saveLease(l);
            },
            [shared, what](store::Outcome<std::monostate> o) {
                if (o.error) spdlog::error("dhcp mac={}: {} not saved ({} lease(s))", shared->front().mac, what, shared->size());
            });
    } catch (const std::exception& e) {
        spdlog::error("dhcp mac={}: {} not saved ({} lease(s)): {}", shared->front().mac, what, shared->size(), e.what());
    }
}

} // namespace labcm::dhcp
