// Small pieces of a server's life: a repeating timer on the io thread, and the shutdown
// watchdog that ends a stop that hangs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace labcm::app {

/// @brief Runs `fn` every `every` on the io thread until cancelled.
class Ticker {
public:
    Ticker(boost::asio::io_context& io, std::chrono::milliseconds every, std::function<void()> fn);
    void cancel() { timer_.cancel(); }

private:
    void arm();
    boost::asio::steady_timer timer_;
    std::chrono::milliseconds every_;
    std::function<void()> fn_;
};

/// @brief After SIGTERM the process ends within the budget (the deploy promise: systemd and
/// Docker kill at 10 s anyway): a stop that hangs is logged and cut short. Committed data is
/// safe either way (WAL); only work still queued is lost then.
class ShutdownWatchdog {
public:
    ~ShutdownWatchdog() { disarm(); }
    void arm(std::chrono::milliseconds budget);
    void disarm();

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

} // namespace labcm::app
