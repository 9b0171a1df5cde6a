#include "app/lifecycle.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "core/thread_name.h"

namespace labcm::app {

Ticker::Ticker(boost::asio::io_context& io, std::chrono::milliseconds every, std::function<void()> fn)
    : timer_(io), every_(every), fn_(std::move(fn)) {
    arm();
}

void Ticker::arm() {
    timer_.expires_after(every_);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        fn_();
        arm();
    });
}

void ShutdownWatchdog::arm(std::chrono::milliseconds budget) {
    if (thread_.joinable()) return;
    thread_ = std::thread([this, budget] {
        nameThisThread("labcm-watchdog");
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, budget, [this] { return done_; })) return;
        spdlog::critical("shutdown took more than {} s; exiting now", budget.count() / 1000);
        std::_Exit(1);
    });
}

void ShutdownWatchdog::disarm() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

} // namespace labcm::app
