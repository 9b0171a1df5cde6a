// Private to server/sip/: SipService::Impl, shared by the three files that see sofia types.
//   sip_service.cpp      the sofia loop: thread, su_root, job queue (eventfd), agent, teardown
//   register_handler.cpp the REGISTER adapter: sip_t -> RegisterRequest, decision -> 200 OK, digest
//   phone_control.cpp    service-control NOTIFY to a registered phone
//   line_notify.cpp      message-summary (MWI) and presence (BLF lamp) NOTIFYs to the phones' lines
//   call_handler.cpp     calls: INVITE routed (call_router.h) and forked, in-dialog requests and
//                        ACKs forwarded along labcm's Record-Route, responses relayed
// Every member below "the sofia thread" is touched on that thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sip/connection_guard.h"
#include "sip/registrar.h"
#include "sip/sip_service.h"
#include "sip/sofia_raii.h"
#include "sip/wire_tap.h"

namespace labcm::sip {

/// @brief CUCM's SIP Station Realm default; phones answer with their line's authName/authPassword.
inline constexpr const char* kRealm = "ccmsipline";

/// @brief The Cisco parameters of a Contact header (register_handler.cpp); empty for nullptr.
CiscoContact readCiscoContact(sip_contact_t const* c);

class SipService::Impl {
public:
    Impl(SipConfig c, EventBus& b, Persist p, UnknownPhone u, LeaseOf l);

    // --- any thread (sip_service.cpp) ---------------------------------------------------
    void post(std::function<void()> job);
    /// @brief Runs `job` on the sofia thread and waits until it ran (at most `budget`).
    bool postAndWait(std::function<void()> job, std::chrono::milliseconds budget);
    void start(std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored);
    void stop();

    // --- the sofia thread: loop (sip_service.cpp) ----------------------------------------
    void run(std::promise<void>& ready, std::vector<DeviceView> devices, std::vector<store::RegistrationRecord> restored);
    /// @brief Creates the agent, the leg (NOTIFYs, and the transactions onMessage makes), digest,
    /// the timers; throws when the address cannot be bound.
    void createStack();
    void restore(std::vector<DeviceView> devices, const std::vector<store::RegistrationRecord>& restored);
    static int onWake(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg);
    /// @brief Once a second: the refreshes waiting to be saved, then the bindings whose phone is gone.
    static void onSweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg);
    /// @brief A registration row to save. A refresh (keep-alive) moves only the expiry and the
    /// last contact: it waits with the others (limits::kSipRefreshSaveInterval, the latest per
    /// phone) instead of a write per keep-alive; anything else goes at once, and a refresh of
    /// that phone still waiting is dropped (it is older).
    void save(store::RegistrationRecord r, bool refresh = false);
    void flushRefreshes();
    /// @brief Every new request (the agent is stateless): a REGISTER is answered without a
    /// transaction, anything else gets a server transaction and goes to onRequest().
    static int onMessage(nta_agent_magic_t* magic, nta_agent_t* agent, msg_t* msg, sip_t* sip);
    static int onRequest(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, sip_t const* sip);
    void dropTport(const std::string& mac);

    // --- the sofia thread: REGISTER (register_handler.cpp) -------------------------------
    /// @brief Answers a REGISTER without a server transaction; `request` goes with the answer
    /// (it is still there only when an exception left it unanswered).
    void onRegister(sofia::Msg& request, sip_t const* sip);
    /// @brief Fills the request's transport ("udp", "tcp") and source ("tcp:ip:port") and returns
    /// its IP address ("" when unknown); `tp` receives the request's tport reference.
    std::string readOrigin(msg_t* request, std::string& transport, std::string& source, sofia::TportRef& tp);
    void rejectRegister(sofia::Msg request, const RegisterRequest& q, const RegisterDecision& d, const std::string& ip,
                        sip_date_t const* date);
    void acceptRegister(sofia::Msg request, sip_t const* sip, const RegisterRequest& q, const RegisterDecision& d,
                        sofia::TportRef tp, su_home_t* home, sip_date_t const* date);
    void reportRegister(const RegisterRequest& q, const RegisterDecision& d, const std::string& ip);
    /// @brief 0 when authenticated; otherwise the status it answered `request` with (it is gone then).
    int authenticate(sofia::Msg& request, sip_t const* sip, const DeviceView& dev, su_home_t* home, std::string& why);
    /// @brief The answer to a request handled without a transaction (nta_msg_treply): the
    /// request goes with it. Tags end with TAG_END().
    void reply(sofia::Msg request, int status, char const* phrase, tag_type_t tag, tag_value_t value, ...);

    // --- the sofia thread: calls (call_handler.cpp) ----------------------------------------
    /// One request labcm forwards statefully (an INVITE to its fork set, a request inside a
    /// dialog it record-routed): the server transaction and a client transaction per branch.
    struct Proxied;
    struct Branch {
        Proxied* txn = nullptr;
        nta_outgoing_t* orq = nullptr;
        std::string mac;
        std::string transport;  ///< "udp" or "tcp", as sent
        int status = 0;         ///< final status, 0 while pending
        std::string cancelKey;  ///< its Via branch once CANCELled (a key of `cancelled`)
    };
    struct Proxied {
        Impl* self = nullptr;
        std::uint64_t id = 0;
        nta_incoming_t* irq = nullptr;
        std::list<Branch> branches; ///< stable addresses: each is its orq's magic
        sofia::Msg best;            ///< the best final non-2xx response so far, ready to relay
        int bestStatus = 0;
        int answered = 0;           ///< the final status relayed to the caller (0: none yet)
        bool call = false;          ///< an initial INVITE: its outcome is a call_attempt event
        bool bye = false;           ///< a BYE: its final answer ends the dialog
        std::string callId, callerDn, number;
        bool done = false;          ///< every branch final: cleaned up by a posted job
        std::string callerMac, callerIp, detail;
    };
    /// @brief An INVITE outside a dialog: routed by routeCall(); a refusal is answered here
    /// (and returned), a call is forked (returns 0: the transaction is kept).
    int onInvite(nta_incoming_t* irq, sip_t const* sip);
    /// @brief A request inside a dialog whose Route names labcm: forwarded to the phone at its
    /// Request-URI (returns 0), else the status it was answered with.
    int forwardInDialog(nta_incoming_t* irq, sip_t const* sip);
    /// Where a request inside a call labcm set up goes: the call's own phone at its Request-URI
    /// (dialogTarget), or the trunk (mac "") for a call labcm sent there.
    struct DialogPeer {
        std::string mac, transport, uri;
    };
    std::optional<DialogPeer> dialogPeer(const std::string& callId, const std::string& requestUri) const;
    /// @brief A 2xx ACK (no transaction): forwarded statelessly along the same route.
    void forwardAck(sofia::Msg request, sip_t const* sip);
    /// @brief A retransmitted 2xx of a call whose transaction is gone: relayed by its Via.
    void forwardStrayResponse(sofia::Msg response, sip_t const* sip);
    /// @brief CANCELs a pending branch (with a Reason when given). Over TCP, sofia ends the
    /// INVITE's client transaction as soon as the CANCEL is sent (nta.c outgoing_complete: a
    /// proxy's INVITE transaction on a reliable transport), so the phone's 487 arrives with no
    /// transaction to ACK it or to tell labcm: `cancelled` keeps the branch until it does.
    void cancelBranch(Branch& b, const char* reason);
    /// @brief The final answer to a branch labcm cancelled, that no transaction took: a
    /// non-2xx is ACKed (RFC 3261 17.1.1.3, hop by hop), a 2xx that crossed the CANCEL relayed,
    /// and the branch ends. False: not one of those.
    bool finishCancelled(msg_t* response, sip_t const* sip);
    void ackCancelled(const Branch& b, sip_t const* sip);
    /// @brief A branch's final answer (`response`: null when sofia made it up): a 2xx relayed
    /// and the call followed, else kept when it is the best so far; then branchFinal.
    void branchAnswered(Branch& b, int status, msg_t* response);
    /// @brief Branches cancelled more than limits::kSipCancelledWait ago that never got their
    /// final answer end as 408, so their call is not kept for ever.
    void sweepCancelled(Clock::time_point now);
    struct Cancelled {
        Branch* branch;
        Clock::time_point at;
    };
    std::unordered_map<std::string, Cancelled> cancelled; ///< by Via branch
    /// @brief Whether a Route / Record-Route URI names labcm itself.
    bool isUs(url_t const* url) const;
    /// @brief The request of `irq`, copied for a branch: Request-URI replaced (when given),
    /// labcm's Routes popped, Max-Forwards less one, `recordRoutes` on top (the last nearest the callee).
    msg_t* forwardedRequest(msg_t* request, const std::string& requestUri, const std::vector<std::string>& recordRoutes);
    bool sendBranch(Proxied& t, msg_t* request, const std::string& mac, const std::string& transport, const std::string& requestUri);
    /// How a request reaches a phone: its live TCP connection (tport set, url empty), else
    /// `sip:<hostPort>;transport=` (UDP, or TCP to its Contact).
    struct PhoneRoute {
        tport_t* tport = nullptr;
        std::string url;
    };
    PhoneRoute phoneRoute(const std::string& mac, const std::string& hostPort, const std::string& transport) const;
    void relay(Proxied& t, msg_t* response);
    void branchFinal(Proxied& t);
    static int onBranchResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);
    static int onProxiedRequest(nta_incoming_magic_t* magic, nta_incoming_t* irq, sip_t const* sip);

    // --- the sofia thread: message waiting and BLF lamps (line_notify.cpp) --------------
    /// One unsolicited NOTIFY to a phone's line, waiting for its final response.
    struct NotifyCtx {
        Impl* self;
        std::string mac, dn;
        bool mwi;           ///< message-summary (else presence: a BLF lamp)
        std::string callId; ///< a lamp's: a 481 ends the subscription it was sent in
        std::list<NotifyCtx>::iterator at{}; ///< where Stack::notifies keeps it (erased in O(1))
    };
    /// @brief Keeps `all` and NOTIFYs the phones on every DN whose mailbox changed.
    void applyMailboxes(std::vector<Mailbox> all);
    /// @brief A phone registered anew: a message-summary NOTIFY for each of its lines that has
    /// a mailbox, and the state of each number its BLF speed dials watch.
    void phoneRegistered(const std::string& mac);
    /// @brief The lines of device `mac` (none when it is unknown).
    std::vector<std::string> dnsOf(const std::string& mac) const;
    /// @brief A phone's registration came or went: the lamps watching its lines follow.
    void linesChanged(const std::string& mac);
    /// @brief A phone is gone (unregistered, lapsed, deleted): its own lamps and subscriptions
    /// go with it (it subscribes again when it registers), and the lamps watching `dns` (its
    /// lines) follow.
    void phoneGone(const std::string& mac, const std::vector<std::string>& dns);
    /// @brief A device was added or edited (its lines were `oldDns`): its BLF keys' lamps, and
    /// the lamps watching its old and new lines, show the numbers' state now.
    void deviceChanged(const std::string& mac, const std::vector<std::string>& oldDns);
    /// @brief The devices were replaced (an import): every lamp of a reachable phone shows its
    /// number's state now, new BLF keys included.
    void relightLamps();
    /// @brief A call on `callerDn` and `number` started ringing, was answered or ended.
    void callChanged(const std::string& callerDn, const std::string& number);
    /// @brief What a BLF lamp on `dn` shows now: busy (in a call, or calling), ringing,
    /// idle, or unregistered when none of its phones is reachable. O(its devices), whatever
    /// the number of calls: from `lineCounts`.
    LineState lineState(const std::string& dn, Clock::time_point now) const;
    /// Per number: calls it is in, calls it is placing and calls ringing it (not answered
    /// yet); numbers at zero are dropped. Kept by countCall / countPending / setAnswered.
    struct LineCounts {
        int inCall = 0, callingOut = 0, ringing = 0;
    };
    std::unordered_map<std::string, LineCounts> lineCounts;
    void countLine(const std::string& dn, int LineCounts::*field, int delta);
    void countCall(const ActiveCall& c, int delta);
    void countPending(const Proxied& t, int delta);
    /// @brief The final status relayed to the caller: a call that was ringing rings no more.
    void setAnswered(Proxied& t, int status);
    /// @brief Every watcher of `dn` whose lamp shows something else gets its presence NOTIFY.
    void lampsOn(const std::string& dn);
    enum class LampSend {
        IfChanged,    ///< only when the lamp shows something else
        Always,       ///< the phone registered: it knows nothing of its lamps
        Subscription, ///< the answer to its SUBSCRIBE (an unsubscribe's says terminated)
    };
    void sendLamp(const Binding& watcher, const std::string& dn, LineState state, LampSend mode);
    void sendMwi(const Binding& b, const std::string& dn, const Mailbox& m);
    /// @brief An out-of-dialog NOTIFY to `b`'s phone over its own connection (false: not sent).
    bool notifyPhone(const Binding& b, const std::string& requestUri, NotifyCtx ctx, tag_type_t tag, tag_value_t value, ...);
    static int onNotifyResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);
    std::map<std::string, Mailbox> mailboxes; ///< by DN
    /// What each watcher's lamp for a number was last told, with its NOTIFYs' Call-ID and CSeq
    /// (CUCM: one Call-ID per lamp, the CSeq rising).
    struct Lamp {
        std::string callId;
        std::uint32_t cseq = 0;
        LineState state = LineState::Unregistered;
        /// The phone's SUBSCRIBE dialog, when it asked (usecallmanager grants `<sub/>`): its
        /// NOTIFYs go in it, to `target`, until `expiresAt`.
        bool subscribed = false;
        std::string from, to, target;
        Clock::time_point expiresAt;
    };
    std::map<std::pair<std::string, std::string>, Lamp> lamps; ///< by (watcher MAC, number)
    std::uint64_t lampsStarted = 0; ///< numbers the Call-IDs of unsolicited lamps
    std::map<std::string, std::set<std::string>> subscribers; ///< number -> MACs subscribed to it
    /// @brief The end of `watcher`'s subscription to `dn`: its key's lamp goes unsolicited again.
    void endSubscription(const std::string& watcher, const std::string& dn, Lamp& lamp);
    /// @brief A SUBSCRIBE (Event: presence) from a registered phone to a number: answered 200
    /// and the number's state NOTIFYed in the subscription, then on every change until it
    /// expires (403 from anyone else, 404 for a number no phone has, 489 for other events).
    int onSubscribe(nta_incoming_t* irq, sip_t const* sip);

    // --- the sofia thread: phone control (phone_control.cpp) -----------------------------
    struct ControlCtx {
        Impl* self;
        std::string mac;
        PhoneAction action;
        std::function<void(ControlResult)> done;
    };
    void sendControl(std::string mac, PhoneAction action, std::string stamp, std::function<void(ControlResult)> done);
    static int onControlResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);

    SipConfig cfg;
    EventBus& bus;
    Persist persist;
    UnknownPhone unknown;
    LeaseOf leaseOf;
    Registrar registrar;
    /// Caps on the TCP connections the agent accepts: guards its listeners from createStack()
    /// until the stack goes; its counters are read from any thread.
    ConnectionGuard guard;

    std::thread thread;
    std::mutex mutex;
    std::deque<std::function<void()>> jobs;
    int efd = -1;
    bool running = false; ///< the sofia thread's loop goes on while true (stop() clears it there)
    std::atomic<std::uint16_t> boundPort{0};
    /// sofia's UDP sockets (it hands out no descriptor: found by port), set before start()
    /// returns and unchanged until the agent goes; read from any thread for the drop count.
    std::vector<int> udpSockets;

    /// @brief Everything sofia the thread creates. Members are destroyed in reverse order of
    /// declaration, which is the teardown known to be clean: the phones' connections, the
    /// sweep timer, digest, its password home, the leg, the agent, the contexts of NOTIFYs
    /// still pending (plain C++ data, after the agent that held their transactions), the
    /// eventfd watch, the root, and su_deinit last.
    struct Stack {
        sofia::Library library;
        sofia::Root root;
        std::optional<sofia::WaitRegistration> wake;
        std::list<ControlCtx> controls; ///< NOTIFYs waiting for their final response
        std::list<NotifyCtx> notifies;  ///< message-summary and presence NOTIFYs waiting for theirs
        std::map<std::uint64_t, Proxied> proxied; ///< requests being forwarded (plain data, after the agent)
        sofia::Agent agent;
        sofia::Leg leg;
        sofia::Home credsHome; ///< passwords handed to auth_mod live here
        sofia::AuthModule auth;
        sofia::Timer sweepTimer;
        sofia::Timer refreshTimer; ///< saves the waiting refreshes (limits::kSipRefreshSaveInterval)
        std::map<std::string, sofia::TportRef> tports; ///< mac -> referenced TCP connection
    };
    std::optional<Stack> stack; ///< exists while the sofia thread runs (created and destroyed on it)
    /// Takes sofia's message log into cfg.trace (when set and on); joined after the stack went.
    std::optional<WireTap> tap;
    std::uint64_t etag = 0;
    std::uint64_t nextProxied = 0;
    std::uint64_t trimmedAt = 0; ///< nextProxied when onSweep last saw it change
    unsigned quietSweeps = 0;    ///< sweeps since then: the heap goes back at kTrimQuietSweeps
    /// The calls labcm set up (a 2xx relayed) and not yet ended (a BYE answered, or a phone
    /// gone), by Call-ID: a request inside any other dialog is refused (481), so labcm never
    /// carries a stranger's request to a phone.
    std::unordered_map<std::string, ActiveCall> dialogs;
    std::atomic<std::uint64_t> callsAttempted{0}, callsAnswered{0};
    std::atomic<std::size_t> callsActive{0};
    /// @brief Ends the dialogs whose phone is no longer registered (onSweep).
    void sweepDialogs();
    std::unordered_map<std::string, store::RegistrationRecord> refreshes; ///< mac -> waiting for the sweep
};

} // namespace labcm::sip
