// SPDX-License-Identifier: MIT
// Channel: memfd segment with two SPSC byte rings, eventfd doorbells and pidfd liveness.
#include "buntime/shm/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

#include "buntime/base/clock.h"
#include "buntime/base/unique_fd.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace buntime::shm {
namespace {

using base::monotonicNs;
using base::UniqueFd;

constexpr std::uint64_t kFrameAlign = 8;
constexpr std::uint64_t kHeaderBytes = sizeof(FrameHeader);
constexpr std::uint64_t kMinRing = 4096;
constexpr std::uint64_t kMaxRing = std::uint64_t(1) << 30;
constexpr std::uint64_t kPageBytes = 4096;
// A producer that finds its ring empty past this offset starts again at offset 0 (a pad
// frame covers the rest, and read_pos moves past it): a channel that is mostly idle keeps
// using its first pages, so the memory it touches (in both processes) stays a few pages
// however long it lives, and the hot frames stay in cache.
constexpr std::uint64_t kRewindAfter = 4096;

constexpr std::uint64_t alignUp(std::uint64_t v, std::uint64_t a) noexcept { return (v + a - 1) & ~(a - 1); }

inline void cpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

std::uint64_t deadlineAfter(std::uint64_t now, std::chrono::nanoseconds timeout) noexcept {
    if (timeout.count() <= 0) return now;
    const auto t = std::uint64_t(timeout.count());
    return t > UINT64_MAX - now ? UINT64_MAX : now + t;
}

// A failed syscall, with errno read at once (before any cleanup can change it).
Failure sysFailure(std::string_view call, int err = errno) noexcept { return Failure{Error::System, err, call}; }

Failure invalid(Error code, std::string_view check) noexcept { return Failure{code, 0, check}; }

void ringBell(int fd) noexcept {
    const std::uint64_t one = 1;
    ssize_t r;
    do {
        r = ::write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
    // EAGAIN means the counter is saturated: the sleeper will wake anyway.
}

// Single-writer counters: a plain load+store avoids a locked RMW on the hot path.
inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// Bytes a frame of `total` bytes needs when the producer is at `write_pos`, including the
// tail skipped (pad) when it does not fit before the end of the ring.
inline std::uint64_t bytesNeeded(std::uint64_t write_pos, std::uint64_t total, std::uint64_t cap) noexcept {
    const std::uint64_t tail = cap - (write_pos & (cap - 1));
    return total <= tail ? total : tail + total;
}

// Bounds a spin and yields the CPU every few microseconds: when the machine is busy the
// peer we just woke may be queued on our own CPU, and pure spinning would only delay it.
class SpinClock {
public:
    SpinClock(std::uint64_t start, std::uint64_t end) noexcept : end_(end), next_yield_(start + kYieldEveryNs) {}
    bool expired() noexcept {
        const std::uint64_t now = monotonicNs();
        if (now >= end_) return true;
        if (now >= next_yield_) {
            ::sched_yield();
            next_yield_ = monotonicNs() + kYieldEveryNs;
        }
        return false;
    }

private:
    static constexpr std::uint64_t kYieldEveryNs = 500;
    std::uint64_t end_;
    std::uint64_t next_yield_;
};

enum class Wait { Ready, Bell, PeerGone, Timeout, Failed };

// Sleeps on `bell` and `pidfd` until `deadline_ns`; does not touch the bell counter.
Wait sleepOn(int bell, int pidfd, std::uint64_t deadline_ns) noexcept {
    const std::uint64_t now = monotonicNs();
    if (now >= deadline_ns) return Wait::Timeout;
    pollfd fds[2] = {{bell, POLLIN, 0}, {pidfd, POLLIN, 0}};  // a negative fd is ignored
    timespec ts{};
    const std::uint64_t left = deadline_ns - now;
    const timespec* tsp = nullptr;
    if (deadline_ns != UINT64_MAX) {
        ts.tv_sec = time_t(left / 1'000'000'000u);
        ts.tv_nsec = long(left % 1'000'000'000u);
        tsp = &ts;
    }
    const int r = ::ppoll(fds, 2, tsp, nullptr);
    if (r < 0) return errno == EINTR ? Wait::Ready : Wait::Failed;
    if (fds[1].revents != 0) return Wait::PeerGone;
    if (fds[0].revents != 0) return Wait::Bell;
    return Wait::Ready;  // ppoll timed out; the caller re-checks the deadline
}

}  // namespace

struct Channel::State {
    Side side = Side::Supervisor;
    UniqueFd segment;
    UniqueFd to_worker_data;
    UniqueFd to_worker_space;
    UniqueFd to_supervisor_data;
    UniqueFd to_supervisor_space;
    void* base = nullptr;
    std::size_t map_size = 0;
    SegmentHeader* hdr = nullptr;

    RingControl* out = nullptr;  // we produce
    std::byte* out_data = nullptr;
    RingControl* in = nullptr;  // we consume
    std::byte* in_data = nullptr;
    std::uint64_t cap = 0;
    std::uint64_t mask = 0;
    int out_data_bell = -1;   // we ring: our outbound ring went non-empty
    int out_space_bell = -1;  // we wait: our outbound ring has room again
    int in_data_bell = -1;    // we wait: our inbound ring has data
    int in_space_bell = -1;   // we ring: we freed room in our inbound ring

    int peer_pidfd = -1;  // not owned unless it is own_pidfd
    UniqueFd own_pidfd;
    std::uint32_t generation = 0;
    std::chrono::nanoseconds spin{0};

    std::uint64_t cached_read = 0;      // producer: last read_pos seen of the outbound ring
    std::uint64_t pending_release = 0;  // consumer: bytes of the frame last returned
    Error broken = Error::Ok;           // consumer: sticky error once the inbound ring is corrupt

    ~State() {
        if (base != nullptr) ::munmap(base, map_size);
    }

    void bind() noexcept {
        const bool sup = side == Side::Supervisor;
        out = sup ? &hdr->to_worker : &hdr->to_supervisor;
        in = sup ? &hdr->to_supervisor : &hdr->to_worker;
        auto* bytes = static_cast<std::byte*>(base);
        out_data = bytes + out->data_offset;
        in_data = bytes + in->data_offset;
        cap = out->capacity;
        mask = cap - 1;
        out_data_bell = sup ? to_worker_data.get() : to_supervisor_data.get();
        out_space_bell = sup ? to_worker_space.get() : to_supervisor_space.get();
        in_data_bell = sup ? to_supervisor_data.get() : to_worker_data.get();
        in_space_bell = sup ? to_supervisor_space.get() : to_worker_space.get();
        generation = hdr->generation;
        cached_read = out->read_pos.load(std::memory_order_acquire);
    }

    std::uint64_t maxPayload() const noexcept { return cap / 2 - kHeaderBytes; }

    // Producer: wakes the consumer if (and only if) it announced it sleeps.
    void notifyConsumer() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (out->consumer_waiting.load(std::memory_order_relaxed) != 0 &&
            out->consumer_waiting.exchange(0, std::memory_order_seq_cst) != 0) {
            ringBell(out_data_bell);
            bump(out->counters.wakeups);
        }
    }

    // Consumer: publishes a new read position and wakes a producer waiting for room.
    void advanceRead(std::uint64_t new_read) noexcept {
        in->read_pos.store(new_read, std::memory_order_release);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (in->producer_waiting.load(std::memory_order_relaxed) != 0 &&
            in->producer_waiting.exchange(0, std::memory_order_seq_cst) != 0) {
            ringBell(in_space_bell);
        }
    }

    void release() noexcept {
        if (pending_release == 0) return;
        const std::uint64_t r = in->read_pos.load(std::memory_order_relaxed) + pending_release;
        pending_release = 0;
        advanceRead(r);
    }

    bool fits(std::uint64_t total) noexcept {
        const std::uint64_t w = out->write_pos.load(std::memory_order_relaxed);
        const std::uint64_t need = bytesNeeded(w, total, cap);
        std::uint64_t used = w - cached_read;
        if (used <= cap && cap - used >= need) return true;
        cached_read = out->read_pos.load(std::memory_order_acquire);
        used = w - cached_read;
        return used <= cap && cap - used >= need;  // used > cap: the peer corrupted read_pos
    }

    Error trySend(const Outgoing& f, bool count_stall) noexcept {
        const std::uint64_t max = maxPayload();
        if (f.head.size() > max || f.body.size() > max || f.head.size() + f.body.size() > max) return Error::TooLarge;
        const std::uint64_t payload = f.head.size() + f.body.size();
        const std::uint64_t total = alignUp(kHeaderBytes + payload, kFrameAlign);
        if (!fits(total)) {
            if (count_stall) bump(out->counters.full_stalls);
            return Error::WouldBlock;
        }
        std::uint64_t pos = out->write_pos.load(std::memory_order_relaxed);
        std::uint64_t off = pos & mask;
        const std::uint64_t tail = cap - off;
        bool rewind = total > tail;
        if (!rewind && off >= kRewindAfter) {
            // The ring is empty: the consumer holds no frame and will not move read_pos
            // before we publish one, so we move it past the pad ourselves and the whole ring
            // stays free. A consumer that loaded read_pos before this sees the change once it
            // acquires the new write_pos (tryReceive re-reads it), or skips the pad.
            if (cached_read != pos) cached_read = out->read_pos.load(std::memory_order_acquire);
            std::uint64_t expected = pos;
            if (cached_read == pos &&
                out->read_pos.compare_exchange_strong(expected, pos + tail, std::memory_order_relaxed)) {
                cached_read = pos + tail;
                rewind = true;
            }
        }
        if (rewind) {
            if (tail >= kHeaderBytes) {
                const FrameHeader pad{
                    kFrameMagic, kPadKind, 0, generation, 0, 0, std::uint32_t(tail - kHeaderBytes), 0};
                std::memcpy(out_data + off, &pad, sizeof pad);
            }
            pos += tail;
            off = 0;
        }
        const FrameHeader h{kFrameMagic,
                            f.kind,
                            f.flags,
                            generation,
                            std::uint32_t(f.head.size()),
                            f.request_id,
                            std::uint32_t(f.body.size()),
                            0};
        std::byte* p = out_data + off;
        std::memcpy(p, &h, sizeof h);
        if (!f.head.empty()) std::memcpy(p + kHeaderBytes, f.head.data(), f.head.size());
        if (!f.body.empty()) std::memcpy(p + kHeaderBytes + f.head.size(), f.body.data(), f.body.size());
        const std::uint64_t new_write = pos + total;
        out->write_pos.store(new_write, std::memory_order_release);

        auto& c = out->counters;
        bump(c.messages);
        bump(c.bytes, payload);
        const std::uint64_t used = new_write - cached_read;
        if (used > c.high_water.load(std::memory_order_relaxed)) c.high_water.store(used, std::memory_order_relaxed);
        notifyConsumer();
        return Error::Ok;
    }

    Error fail(Error e) noexcept {
        broken = e;
        return e;
    }

    Error tryReceive(FrameView& view) noexcept {
        if (broken != Error::Ok) return broken;
        release();
        std::uint64_t r = in->read_pos.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint64_t w = in->write_pos.load(std::memory_order_acquire);
            const std::uint64_t avail = w - r;
            if (avail == 0) return Error::WouldBlock;
            // The producer rewinds an empty ring by moving read_pos before it publishes w.
            if (const std::uint64_t now_r = in->read_pos.load(std::memory_order_relaxed); now_r != r) {
                r = now_r;
                continue;
            }
            if (r - w <= cap) return Error::WouldBlock;  // read_pos ahead: a rewind not yet published
            if (avail > cap) return fail(Error::BadLength);
            const std::uint64_t off = r & mask;
            const std::uint64_t tail = cap - off;
            if (tail < kHeaderBytes) {  // too short for a pad header: skipped implicitly
                if (avail < tail) return fail(Error::BadLength);
                r += tail;
                advanceRead(r);
                continue;
            }
            if (avail < kHeaderBytes) return fail(Error::BadLength);
            FrameHeader h;
            std::memcpy(&h, in_data + off, sizeof h);  // copy once: the peer may scribble
            if (h.magic != kFrameMagic) return fail(Error::BadMagic);
            if (h.generation != generation) return fail(Error::BadGeneration);
            if (h.kind == kPadKind) {
                if (avail < tail) return fail(Error::BadLength);
                r += tail;
                advanceRead(r);
                continue;
            }
            const std::uint64_t payload = std::uint64_t(h.head_len) + h.body_len;
            if (payload > maxPayload()) return fail(Error::BadLength);
            const std::uint64_t total = alignUp(kHeaderBytes + payload, kFrameAlign);
            if (total > tail || total > avail) return fail(Error::BadLength);
            const std::byte* p = in_data + off + kHeaderBytes;
            view.header = h;
            view.head = {p, h.head_len};
            view.body = {p + h.head_len, h.body_len};
            pending_release = total;
            return Error::Ok;
        }
    }

    bool inboundNonEmpty() const noexcept {
        const std::uint64_t w = in->write_pos.load(std::memory_order_acquire);
        const std::uint64_t r = in->read_pos.load(std::memory_order_relaxed) + pending_release;
        return w != r && r - w > cap;  // r ahead of w: the producer is rewinding, nothing to read yet
    }
};

Channel::Channel(State* state) noexcept : state_(state) {}
Channel::Channel(Channel&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
Channel& Channel::operator=(Channel&& o) noexcept {
    if (this != &o) {
        delete state_;
        state_ = std::exchange(o.state_, nullptr);
    }
    return *this;
}
Channel::~Channel() { delete state_; }

Expected<Channel> Channel::create(const ChannelConfig& config) {
    if (config.ring_bytes > kMaxRing) return invalid(Error::TooLarge, "ring_bytes over 1 GiB");
    const std::uint64_t cap = std::max<std::uint64_t>(kMinRing, std::bit_ceil(std::uint64_t(config.ring_bytes)));
    const std::uint64_t header_bytes = alignUp(sizeof(SegmentHeader), kPageBytes);
    const std::uint64_t size = header_bytes + 2 * cap;

    auto st = std::make_unique<State>();
    st->side = Side::Supervisor;
    st->spin = config.spin;
    st->segment.reset(::memfd_create("buntime-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!st->segment.valid()) return sysFailure("memfd_create");
    if (::ftruncate(st->segment.get(), off_t(size)) != 0) return sysFailure("ftruncate");
    if (::fcntl(st->segment.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) return sysFailure("F_ADD_SEALS");
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, st->segment.get(), 0);
    if (base == MAP_FAILED) return sysFailure("mmap");
    st->base = base;
    st->map_size = size;

    auto* hdr = new (base) SegmentHeader();
    hdr->magic = kSegmentMagic;
    hdr->layout_version = kLayoutVersion;
    hdr->segment_size = size;
    hdr->generation = config.generation;
    hdr->supervisor_pid = ::getpid();
    hdr->to_worker.capacity = cap;
    hdr->to_worker.data_offset = header_bytes;
    hdr->to_supervisor.capacity = cap;
    hdr->to_supervisor.data_offset = header_bytes + cap;
    st->hdr = hdr;

    for (UniqueFd* fd :
         {&st->to_worker_data, &st->to_worker_space, &st->to_supervisor_data, &st->to_supervisor_space}) {
        fd->reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!fd->valid()) return sysFailure("eventfd");
    }
    st->bind();
    st->hdr->supervisor_heartbeat_ns.store(monotonicNs(), std::memory_order_relaxed);
    return Channel(st.release());
}

Expected<Channel> Channel::open(const ChannelFds& fds, std::chrono::nanoseconds spin) {
    struct stat sb {};
    if (fds.segment < 0) return sysFailure("segment fd", EBADF);
    if (::fstat(fds.segment, &sb) != 0) return sysFailure("fstat");
    const auto size = std::uint64_t(sb.st_size);
    if (size < sizeof(SegmentHeader)) return invalid(Error::BadLayout, "segment smaller than its header");
    // Without a shrink seal the creator could truncate the file and fault us with SIGBUS.
    const int seals = ::fcntl(fds.segment, F_GET_SEALS);
    if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) return invalid(Error::BadLayout, "segment is not sealed");
    for (int fd : {fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data, fds.to_supervisor_space}) {
        if (fd < 0) return sysFailure("doorbell fd", EBADF);
        if (::fcntl(fd, F_GETFD) < 0) return sysFailure("doorbell fd");
    }

    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds.segment, 0);
    if (base == MAP_FAILED) return sysFailure("mmap");
    auto st = std::make_unique<State>();
    st->base = base;
    st->map_size = size;
    auto* hdr = std::launder(reinterpret_cast<SegmentHeader*>(base));
    if (hdr->magic != kSegmentMagic) return invalid(Error::BadMagic, "segment magic");
    if (hdr->layout_version != kLayoutVersion) return invalid(Error::BadLayout, "layout version");
    if (hdr->segment_size != size) return invalid(Error::BadLayout, "segment size");
    for (const RingControl* r : {&hdr->to_worker, &hdr->to_supervisor}) {
        const std::uint64_t cap = r->capacity;
        if (cap < kMinRing || cap > kMaxRing || !std::has_single_bit(cap))
            return invalid(Error::BadLayout, "ring capacity");
        if (r->data_offset < sizeof(SegmentHeader) || r->data_offset % kFrameAlign != 0 || r->data_offset > size ||
            size - r->data_offset < cap)
            return invalid(Error::BadLayout, "ring outside the segment");
    }
    if (hdr->to_worker.capacity != hdr->to_supervisor.capacity) return invalid(Error::BadLayout, "ring capacity");
    const std::uint64_t a = hdr->to_worker.data_offset;
    const std::uint64_t b = hdr->to_supervisor.data_offset;
    if (a < b ? a + hdr->to_worker.capacity > b : b + hdr->to_supervisor.capacity > a)
        return invalid(Error::BadLayout, "rings overlap");

    // Ownership of the fds moves to the channel only on success.
    st->side = Side::Worker;
    st->spin = spin;
    st->hdr = hdr;
    st->segment.reset(fds.segment);
    st->to_worker_data.reset(fds.to_worker_data);
    st->to_worker_space.reset(fds.to_worker_space);
    st->to_supervisor_data.reset(fds.to_supervisor_data);
    st->to_supervisor_space.reset(fds.to_supervisor_space);
    st->bind();
    hdr->worker_pid.store(::getpid(), std::memory_order_release);
    hdr->worker_heartbeat_ns.store(monotonicNs(), std::memory_order_relaxed);
    return Channel(st.release());
}

Side Channel::side() const noexcept { return state_->side; }

ChannelFds Channel::fds() const noexcept {
    return {state_->segment.get(), state_->to_worker_data.get(), state_->to_worker_space.get(),
            state_->to_supervisor_data.get(), state_->to_supervisor_space.get()};
}

std::uint32_t Channel::generation() const noexcept { return state_->generation; }

void Channel::setPeerPidfd(int pidfd) noexcept {
    state_->own_pidfd.reset();
    state_->peer_pidfd = pidfd;
}

Error Channel::watchParent() {
    const pid_t parent = ::getppid();
    UniqueFd fd(int(::syscall(SYS_pidfd_open, parent, 0)));  // pidfd_open sets O_CLOEXEC
    if (!fd) return errno == ESRCH ? Error::PeerDead : Error::System;
    // The parent may have died between getppid() and pidfd_open() (we were reparented).
    if (::getppid() != parent) return Error::PeerDead;
    state_->peer_pidfd = fd.get();
    state_->own_pidfd = std::move(fd);
    return Error::Ok;
}

bool Channel::peerAlive() const noexcept {
    if (state_->peer_pidfd < 0) return true;
    pollfd p{state_->peer_pidfd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

std::size_t Channel::maxPayload() const noexcept { return state_->maxPayload(); }

Error Channel::trySend(const Outgoing& frame) { return state_->trySend(frame, true); }

Error Channel::send(const Outgoing& frame, std::chrono::nanoseconds timeout) {
    State& s = *state_;
    Error e = s.trySend(frame, true);
    if (e != Error::WouldBlock) return e;
    const std::uint64_t start = monotonicNs();
    const std::uint64_t deadline = deadlineAfter(start, timeout);
    if (s.spin.count() > 0) {
        const std::uint64_t spin_end = std::min(deadlineAfter(start, s.spin), deadline);
        SpinClock clock(start, spin_end);
        for (unsigned i = 1;; ++i) {
            cpuRelax();
            if (s.out->read_pos.load(std::memory_order_relaxed) != s.cached_read) {
                e = s.trySend(frame, false);
                if (e != Error::WouldBlock) return e;
            }
            if ((i & 15) == 0 && clock.expired()) break;
        }
    }
    RingControl& r = *s.out;
    for (;;) {
        r.producer_waiting.store(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        e = s.trySend(frame, false);
        if (e != Error::WouldBlock) {
            r.producer_waiting.store(0, std::memory_order_relaxed);
            return e;
        }
        const Wait w = sleepOn(s.out_space_bell, s.peer_pidfd, deadline);
        if (w == Wait::Bell) drainBell(s.out_space_bell);
        if (w == Wait::Ready || w == Wait::Bell) continue;
        r.producer_waiting.store(0, std::memory_order_relaxed);
        e = s.trySend(frame, false);
        if (e != Error::WouldBlock) return e;
        return w == Wait::PeerGone ? Error::PeerDead : w == Wait::Timeout ? Error::Timeout : Error::System;
    }
}

Error Channel::tryReceive(FrameView& out) { return state_->tryReceive(out); }

void Channel::release() { state_->release(); }

Error Channel::receive(FrameView& out, std::chrono::nanoseconds timeout) {
    State& s = *state_;
    Error e = s.tryReceive(out);
    if (e != Error::WouldBlock) return e;
    const std::uint64_t start = monotonicNs();
    const std::uint64_t deadline = deadlineAfter(start, timeout);
    RingControl& r = *s.in;
    if (s.spin.count() > 0) {
        const std::uint64_t spin_end = std::min(deadlineAfter(start, s.spin), deadline);
        SpinClock clock(start, spin_end);
        for (unsigned i = 1;; ++i) {
            cpuRelax();
            if (r.write_pos.load(std::memory_order_relaxed) != r.read_pos.load(std::memory_order_relaxed)) {
                e = s.tryReceive(out);
                if (e == Error::Ok) bump(r.counters.spin_hits);
                if (e != Error::WouldBlock) return e;
            }
            if ((i & 15) == 0 && clock.expired()) break;
        }
    }
    for (;;) {
        r.consumer_waiting.store(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        e = s.tryReceive(out);
        if (e != Error::WouldBlock) {
            r.consumer_waiting.store(0, std::memory_order_relaxed);
            return e;
        }
        if (monotonicNs() < deadline) bump(r.counters.sleeps);
        const Wait w = sleepOn(s.in_data_bell, s.peer_pidfd, deadline);
        if (w == Wait::Bell) drainBell(s.in_data_bell);
        if (w == Wait::Ready || w == Wait::Bell) continue;
        r.consumer_waiting.store(0, std::memory_order_relaxed);
        // Frames the peer published before dying are still delivered.
        e = s.tryReceive(out);
        if (e != Error::WouldBlock) return e;
        return w == Wait::PeerGone ? Error::PeerDead : w == Wait::Timeout ? Error::Timeout : Error::System;
    }
}

bool Channel::armReadable() noexcept {
    State& s = *state_;
    if (s.broken != Error::Ok || s.inboundNonEmpty()) return true;
    s.in->consumer_waiting.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (s.inboundNonEmpty()) {
        s.in->consumer_waiting.store(0, std::memory_order_relaxed);
        return true;
    }
    bump(s.in->counters.sleeps);
    return false;
}

bool Channel::armWritable(std::size_t payload) noexcept {
    State& s = *state_;
    if (payload > s.maxPayload()) return true;  // trySend answers TooLarge at once
    const std::uint64_t total = alignUp(kHeaderBytes + payload, kFrameAlign);
    if (s.fits(total)) return true;
    s.out->producer_waiting.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (s.fits(total)) {
        s.out->producer_waiting.store(0, std::memory_order_relaxed);
        return true;
    }
    return false;
}

int Channel::inboundBell() const noexcept { return state_->in_data_bell; }
int Channel::outboundSpaceBell() const noexcept { return state_->out_space_bell; }

void Channel::drainBell(int fd) noexcept {
    std::uint64_t v;
    while (::read(fd, &v, sizeof v) < 0 && errno == EINTR) {}
}

SegmentHeader& Channel::header() noexcept { return *state_->hdr; }
const RingCounters& Channel::outboundCounters() const noexcept { return state_->out->counters; }
const RingCounters& Channel::inboundCounters() const noexcept { return state_->in->counters; }

namespace {
// Bytes between the positions; 0 while a rewind moved read_pos ahead of write_pos.
std::size_t usedBetween(const RingControl& r, std::uint64_t cap) noexcept {
    const std::uint64_t rd = r.read_pos.load(std::memory_order_acquire);
    const std::uint64_t w = r.write_pos.load(std::memory_order_acquire);
    return w - rd <= cap ? w - rd : 0;
}
}  // namespace

std::size_t Channel::inboundUsed() const noexcept { return usedBetween(*state_->in, state_->cap); }

std::size_t Channel::outboundUsed() const noexcept { return usedBetween(*state_->out, state_->cap); }

std::size_t Channel::ringCapacity() const noexcept { return state_->cap; }

void Channel::heartbeat() noexcept {
    auto& slot =
        state_->side == Side::Supervisor ? state_->hdr->supervisor_heartbeat_ns : state_->hdr->worker_heartbeat_ns;
    slot.store(monotonicNs(), std::memory_order_relaxed);
}

}  // namespace buntime::shm
