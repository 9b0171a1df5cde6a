// The sofia thread's loop (sofia_loop.h) with a real su_root: it finds sofia's epoll descriptor
// by a descriptor the root watches, and runs timers and wakes until told to stop.
#include <doctest/doctest.h>

#include "sip/sofia_loop.h"
#include "sip/sofia_raii.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

using namespace labcm::sip;

namespace {

struct Loop {
    bool running = true;
    int fired = 0;
    int woken = 0;
};

void onTimer(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* loop = reinterpret_cast<Loop*>(arg);
    // One step of the root may run the timer again after it said stop (su_root_step expires
    // timers before and after its wait): runRoot ends at the end of that step.
    if (!loop->running) return;
    if (++loop->fired == 20) loop->running = false;
}

int onWake(su_root_magic_t*, su_wait_t* w, su_wakeup_arg_t* arg) {
    eventfd_t n = 0;
    ::eventfd_read(w->fd, &n);
    reinterpret_cast<Loop*>(arg)->woken += static_cast<int>(n);
    return 0;
}

} // namespace

TEST_CASE("sofia loop: finds the root's epoll descriptor and runs timers and wakes until stopped") {
    sofia::Library library;
    sofia::Root root{su_root_create(nullptr)};
    REQUIRE(root);
    Loop loop;
    const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(efd >= 0);
    const int stranger = ::eventfd(0, EFD_CLOEXEC);
    {
        sofia::WaitRegistration wake(root.get(), efd, &onWake, reinterpret_cast<su_wakeup_arg_t*>(&loop));
        const int pollFd = sofia::pollFdWatching(efd);
        CHECK(pollFd >= 0);
        CHECK(sofia::pollFdWatching(stranger) == -1); // watched by no epoll
        // An epoll of our own that watches `stranger` is found for it, not for efd.
        const int own = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        REQUIRE(::epoll_ctl(own, EPOLL_CTL_ADD, stranger, &ev) == 0);
        CHECK(sofia::pollFdWatching(stranger) == own);
        CHECK(sofia::pollFdWatching(efd) == pollFd);
        ::close(own);

        REQUIRE(::eventfd_write(efd, 3) == 0); // a wake waiting before the loop starts
        // A 1 ms timer: each wait before it is under a millisecond, the case runRoot sleeps in.
        sofia::Timer timer{su_timer_create(su_root_task(root.get()), 1)};
        REQUIRE(su_timer_set_for_ever(timer.get(), &onTimer, reinterpret_cast<su_timer_arg_t*>(&loop)) == 0);
        sofia::runRoot(root.get(), pollFd, loop.running);
        CHECK(loop.fired == 20);
        CHECK(loop.woken == 3);
    }
    ::close(stranger);
    ::close(efd);
}
