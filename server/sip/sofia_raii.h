// Owning handles for the sofia-sip objects labcm creates, after Flexisip's sofiasip::Home and
// SuRoot: each handle frees its object with the matching sofia call when it goes out of scope,
// so nothing in server/sip/ frees a sofia object by hand. Private to server/sip/ (.cpp files
// and private headers); sip_service.h never sees a sofia type.
//
// Every handle belongs to the sofia thread: create, use and destroy it there.
#pragma once

#include <memory>
#include <utility>

#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/tport.h>
// auth_module.h declares auth_mod_check() only after sip.h (its #ifdef SIP_H guard).
#include <sofia-sip/auth_module.h>

namespace labcm::sip::sofia {

/// @brief A unique_ptr deleter calling sofia's own destroy/unref function (never with null:
/// unique_ptr skips the deleter for an empty handle).
template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using Root = std::unique_ptr<su_root_t, Deleter<&su_root_destroy>>;
/// @brief A heap home from su_home_new(); su_home_unref frees it and everything allocated in it.
using Home = std::unique_ptr<su_home_t, Deleter<&su_home_unref>>;
using Agent = std::unique_ptr<nta_agent_t, Deleter<&nta_agent_destroy>>;
using Leg = std::unique_ptr<nta_leg_t, Deleter<&nta_leg_destroy>>;
using Timer = std::unique_ptr<su_timer_t, Deleter<&su_timer_destroy>>;
using AuthModule = std::unique_ptr<auth_mod_t, Deleter<&auth_mod_destroy>>;
using AuthStatus = std::unique_ptr<auth_status_t, Deleter<&auth_status_unref>>;
/// @brief A client transaction; destroy it once its final response arrived.
using Outgoing = std::unique_ptr<nta_outgoing_t, Deleter<&nta_outgoing_destroy>>;
/// @brief A message reference (e.g. from nta_incoming_getrequest()).
using Msg = std::unique_ptr<msg_t, Deleter<&msg_destroy>>;

/// @brief su_init() for as long as it lives; su_deinit() at the end. Declare it before (so it
/// outlives) every other sofia object of the thread.
class Library {
public:
    Library() { su_init(); }
    ~Library() { su_deinit(); }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

/// @brief A home on the stack for the temporary allocations of one callback
/// (SU_HOME_INIT ... su_home_deinit).
class StackHome {
public:
    StackHome() = default;
    ~StackHome() { su_home_deinit(home_); }
    StackHome(const StackHome&) = delete;
    StackHome& operator=(const StackHome&) = delete;

    su_home_t* get() noexcept { return home_; }

private:
    su_home_t home_[1] = {SU_HOME_INIT(home_)};
};

/// @brief One counted reference to a transport (a phone's TCP connection stays open while
/// one is held). Move-only; tport_unref() when it is reset or dies.
class TportRef {
public:
    TportRef() = default;
    /// @brief Takes over a reference the caller already holds (nta_incoming_transport()
    /// returns one).
    static TportRef adopt(tport_t* tp) noexcept { return TportRef(tp); }

    ~TportRef() { reset(); }
    TportRef(TportRef&& other) noexcept : tp_(std::exchange(other.tp_, nullptr)) {}
    TportRef& operator=(TportRef&& other) noexcept {
        if (this != &other) {
            reset();
            tp_ = std::exchange(other.tp_, nullptr);
        }
        return *this;
    }
    TportRef(const TportRef&) = delete;
    TportRef& operator=(const TportRef&) = delete;

    void reset() noexcept {
        if (tp_) tport_unref(std::exchange(tp_, nullptr));
    }
    tport_t* get() const noexcept { return tp_; }
    explicit operator bool() const noexcept { return tp_ != nullptr; }

private:
    explicit TportRef(tport_t* tp) noexcept : tp_(tp) {}
    tport_t* tp_ = nullptr;
};

/// @brief An fd watched by a root (su_root_register) until this dies (su_root_unregister).
/// Not movable: the root keeps the callback and argument it was given.
class WaitRegistration {
public:
    WaitRegistration(su_root_t* root, int fd, su_wakeup_f callback, su_wakeup_arg_t* arg)
        : root_(root), callback_(callback), arg_(arg) {
        su_wait_create(wait_, fd, SU_WAIT_IN);
        su_root_register(root_, wait_, callback_, arg_, 0);
    }
    ~WaitRegistration() { su_root_unregister(root_, wait_, callback_, arg_); }
    WaitRegistration(const WaitRegistration&) = delete;
    WaitRegistration& operator=(const WaitRegistration&) = delete;

private:
    su_root_t* root_;
    su_wakeup_f callback_;
    su_wakeup_arg_t* arg_;
    su_wait_t wait_[1] = {};
};

} // namespace labcm::sip::sofia
