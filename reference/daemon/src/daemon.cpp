#include "natcert/reference/daemon.hpp"

#include <linux/if_packet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "frames.hpp"
#include "neighbors.hpp"
#include "packet_socket.hpp"

namespace natcert::ref {

using namespace daemon;

namespace {

constexpr std::size_t kBatch = 64;
constexpr Duration kTick = std::chrono::milliseconds(100);

TimePoint monotonic_now() { return std::chrono::steady_clock::now().time_since_epoch(); }

std::string lower_key(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return out;
}

// Whether the make_config spec overrides `key` itself (its keys normalised the way make_config does).
bool spec_sets(std::string_view spec, std::string_view key) {
  std::size_t start = spec.find(',');
  while (start != std::string_view::npos) {
    const auto end = spec.find(',', start + 1);
    const auto item = spec.substr(start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1);
    if (lower_key(item.substr(0, item.find('='))) == key) return true;
    start = end;
  }
  return false;
}

std::string format_prefix(Ipv4Address address, unsigned length) {
  return format_ipv4(address) + "/" + std::to_string(length);
}

Ipv4Address network_of(Ipv4Address address, unsigned length) {
  return length == 0 ? 0 : address & (~Ipv4Address{0} << (32 - length));
}

// The MAC a destination that needs no ARP maps to, if any (limited broadcast, IPv4 multicast).
bool static_mac(Ipv4Address destination, MacAddress& mac) {
  if (destination == 0xffffffffu) {
    mac = kBroadcastMac;
    return true;
  }
  if ((destination >> 28) == 0xe) {
    mac = {0x01, 0x00, 0x5e, static_cast<std::uint8_t>((destination >> 16) & 0x7f),
           static_cast<std::uint8_t>(destination >> 8), static_cast<std::uint8_t>(destination)};
    return true;
  }
  return false;
}

// One side of the NAT: its interface, socket, addresses, neighbours and batch buffers.
struct Port {
  Side side = Side::inside;
  InterfaceInfo interface;
  PacketSocket socket;
  std::vector<Ipv4Address> own_addresses;  // answered in ARP
  Subnet link;
  Ipv4Address gateway = 0;
  ArpCache arp;
  PendingResolutions pending;

  std::size_t frame_capacity = 0;  // bytes per send slot (MTU + Ethernet header + slack)
  std::vector<std::uint8_t> tx_storage;
  std::array<mmsghdr, kBatch> tx_messages{};
  std::array<iovec, kBatch> tx_vectors{};
  std::size_t tx_count = 0;

  void allocate_batches() {
    frame_capacity = std::max<std::size_t>(interface.mtu, 1500) + kEthernetHeaderSize + 4 + 64;
    tx_storage.assign(frame_capacity * kBatch, 0);
    for (std::size_t i = 0; i < kBatch; ++i) {
      tx_vectors[i] = iovec{tx_storage.data() + i * frame_capacity, 0};
      tx_messages[i].msg_hdr = msghdr{};
      tx_messages[i].msg_hdr.msg_iov = &tx_vectors[i];
      tx_messages[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::uint8_t* tx_slot(std::size_t index) { return tx_storage.data() + index * frame_capacity; }
  bool owns(Ipv4Address address) const {
    return std::find(own_addresses.begin(), own_addresses.end(), address) != own_addresses.end();
  }
};

}  // namespace

// What the constructor works out before anything is opened.
struct Prepared {
  DaemonConfig config;
  InterfaceInfo inside;
  InterfaceInfo outside;
  NatConfig nat;
  std::string adjustments;
};

class Daemon::Impl {
 public:
  explicit Impl(Prepared prepared);
  ~Impl() {
    if (!ingress_table_.empty()) remove_ingress_drop(ingress_table_);
  }

  void run();
  void stop() {
    stop_.store(true);
    wake();
  }
  void request_reset() {
    reset_requested_.fetch_add(1);
    wake();
  }
  bool reset_and_wait(std::chrono::milliseconds timeout);
  bool wait_running(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return running_; });
  }
  DaemonStats stats();

  const InterfaceInfo& inside_interface() const { return inside_.interface; }
  const InterfaceInfo& outside_interface() const { return outside_.interface; }

  DaemonConfig config_;
  NatConfig nat_config_;
  std::string adjustments_;

 private:
  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wakeup_.get(), &one, sizeof one);
  }
  Port& port(Side side) { return side == Side::inside ? inside_ : outside_; }
  // Receives and handles up to one batch; returns how many frames came in.
  std::size_t receive_batch(Port& port, TimePoint now);
  void handle_frame(Port& port, std::uint8_t* frame, std::size_t length, bool checksum_not_ready, TimePoint now);
  void handle_arp(Port& port, std::span<const std::uint8_t> payload, TimePoint now);
  void emit(const Output& out, TimePoint now);
  void send_ip(Port& port, std::span<const std::uint8_t> packet, TimePoint now);
  void send_frame(Port& port, const MacAddress& destination, std::uint16_t ether_type,
                  std::span<const std::uint8_t> payload);
  void send_arp(Port& port, const MacAddress& destination, const ArpMessage& message);
  void flush(Port& port);
  void tick(TimePoint now);
  void handle_commands();
  void publish();

  Port inside_;
  Port outside_;
  FileDescriptor wakeup_;
  std::string ingress_table_;  // the nftables table dropping kernel ingress, if installed
  ReferenceNat nat_;
  Output out_;
  DaemonStats counters_;  // the loop's own, published under mutex_
  std::vector<Ipv4Address> retry_;

  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> reset_requested_{0};
  std::atomic<std::uint64_t> snapshot_requested_{0};
  std::uint64_t resets_done_ = 0;
  std::uint64_t snapshots_done_ = 0;
  std::uint64_t published_resets_ = 0;
  std::uint64_t published_snapshots_ = 0;
  bool running_ = false;
  DaemonStats published_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
};

namespace {

NatConfig build_nat_config(const DaemonConfig& config, const InterfaceInfo& outside, std::string& adjustments) {
  NatConfig nat;
  std::string error;
  if (!make_config(config.nat_spec, nat, error)) throw DaemonError("--config " + config.nat_spec + ": " + error);
  if (!spec_sets(config.nat_spec, "external-addresses")) nat.external_addresses = config.outside_addresses;
  if (!spec_sets(config.nat_spec, "inside-address")) nat.inside_address = config.inside_address;
  if (!spec_sets(config.nat_spec, "inside-prefix")) {
    nat.inside_prefix = network_of(config.inside_address, config.inside_prefix);
    nat.inside_prefix_length = static_cast<std::uint8_t>(config.inside_prefix);
  }
  if (nat.fragments.outside_mtu > outside.mtu) {
    adjustments += ", fragments.outside-mtu clamped from " + std::to_string(nat.fragments.outside_mtu) + " to " +
                   std::to_string(outside.mtu) + " (the MTU of " + outside.name + ")";
    nat.fragments.outside_mtu = static_cast<std::uint16_t>(outside.mtu);
  }
  if (const auto problems = validate(nat); !problems.empty()) {
    throw DaemonError("--config " + config.nat_spec + ": " + problems.front());
  }
  return nat;
}

void check_addresses(const DaemonConfig& config) {
  if (config.inside_address == 0) throw DaemonError("--inside: an address is required");
  if (config.inside_prefix > 32) throw DaemonError("--inside: prefix length above 32");
  if (config.outside_addresses.empty()) throw DaemonError("--outside: at least one address is required");
  if (config.outside_prefix > 32) throw DaemonError("--outside: prefix length above 32");
  for (const auto address : config.outside_addresses) {
    if (address == 0) throw DaemonError("--outside: 0.0.0.0 is not a usable address");
  }
  if (config.inside_interface == config.outside_interface && !config.inside_interface.empty()) {
    throw DaemonError("--inside-if and --outside-if must be different interfaces");
  }
}

Prepared prepare(DaemonConfig config) {
  Prepared prepared;
  check_addresses(config);
  // The spec first: its errors need neither interfaces nor privileges.
  NatConfig probe;
  std::string error;
  if (!make_config(config.nat_spec, probe, error)) throw DaemonError("--config " + config.nat_spec + ": " + error);
  prepared.inside = query_interface(config.inside_interface, "--inside-if");
  prepared.outside = query_interface(config.outside_interface, "--outside-if");
  prepared.nat = build_nat_config(config, prepared.outside, prepared.adjustments);
  prepared.config = std::move(config);
  return prepared;
}

}  // namespace

Daemon::Impl::Impl(Prepared prepared)
    : config_(std::move(prepared.config)),
      nat_config_(std::move(prepared.nat)),
      adjustments_(std::move(prepared.adjustments)),
      nat_(nat_config_) {
  inside_.interface = std::move(prepared.inside);
  outside_.interface = std::move(prepared.outside);
  inside_.side = Side::inside;
  inside_.own_addresses = {config_.inside_address};
  if (nat_config_.inside_address != config_.inside_address) inside_.own_addresses.push_back(nat_config_.inside_address);
  inside_.link = Subnet{config_.inside_address, config_.inside_prefix};
  outside_.side = Side::outside;
  outside_.own_addresses = config_.outside_addresses;
  for (const auto address : nat_config_.external_addresses) {
    if (!outside_.owns(address)) outside_.own_addresses.push_back(address);
  }
  outside_.link = Subnet{config_.outside_addresses.front(), config_.outside_prefix};
  outside_.gateway = config_.gateway;

  inside_.socket = open_packet_socket(inside_.interface, "--inside-if");
  outside_.socket = open_packet_socket(outside_.interface, "--outside-if");
  if (config_.drop_kernel_ingress) {
    static std::atomic<unsigned> tables{0};
    const std::string table = "natcert_refnat_" + std::to_string(::getpid()) + "_" + std::to_string(++tables);
    if (install_ingress_drop(table, {inside_.interface.name, outside_.interface.name})) {
      ingress_table_ = table;
      adjustments_ += ", kernel ingress dropped (nft table netdev " + table + ")";
    } else {
      adjustments_ += ", kernel ingress NOT dropped (nft missing or refused: the kernel also handles every frame)";
    }
  }
  wakeup_ = FileDescriptor(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (wakeup_.get() < 0) throw DaemonError(std::string("eventfd: ") + std::strerror(errno));
  inside_.allocate_batches();
  outside_.allocate_batches();
  retry_.reserve(64);
}

void Daemon::Impl::run() {
  {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  changed_.notify_all();
  struct NotRunning {
    Impl& impl;
    ~NotRunning() {
      impl.publish();
      {
        std::lock_guard lock(impl.mutex_);
        impl.running_ = false;
      }
      impl.changed_.notify_all();
    }
  } not_running{*this};

  TimePoint next_tick = monotonic_now() + kTick;
  bool busy = false;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!busy) {
      pollfd fds[3] = {{inside_.socket.fd.get(), POLLIN, 0}, {outside_.socket.fd.get(), POLLIN, 0}, {wakeup_.get(), POLLIN, 0}};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - monotonic_now()).count();
      const int ready = ::poll(fds, 3, static_cast<int>(std::clamp<long long>(wait + 1, 0, 100)));
      if (ready < 0 && errno != EINTR) throw DaemonError(std::string("poll: ") + std::strerror(errno));
      if (ready > 0 && (fds[2].revents & POLLIN) != 0) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto read = ::read(wakeup_.get(), &value, sizeof value);
      }
    }
    handle_commands();
    TimePoint now = monotonic_now();
    const std::size_t from_inside = receive_batch(inside_, now);
    const std::size_t from_outside = receive_batch(outside_, now);
    busy = from_inside == kBatch || from_outside == kBatch;
    if (now >= next_tick) {
      tick(now);
      next_tick = now + kTick;
    }
  }
}

void Daemon::Impl::handle_commands() {
  const auto resets = reset_requested_.load();
  if (resets != resets_done_) {
    nat_.reset();
    inside_.pending.clear();
    outside_.pending.clear();
    ++counters_.resets;
    resets_done_ = resets;
    publish();
  }
  const auto snapshots = snapshot_requested_.load();
  if (snapshots != snapshots_done_) {
    snapshots_done_ = snapshots;
    publish();
  }
}

void Daemon::Impl::publish() {
  const auto nat = nat_.stats();
  counters_.mappings = nat.mappings;
  counters_.sessions = nat.sessions;
  {
    std::lock_guard lock(mutex_);
    published_ = counters_;
    published_resets_ = resets_done_;
    published_snapshots_ = snapshots_done_;
  }
  changed_.notify_all();
}

bool Daemon::Impl::reset_and_wait(std::chrono::milliseconds timeout) {
  const auto target = reset_requested_.fetch_add(1) + 1;
  wake();
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return published_resets_ >= target; });
}

DaemonStats Daemon::Impl::stats() {
  const auto target = snapshot_requested_.fetch_add(1) + 1;
  wake();
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(1), [&] { return published_snapshots_ >= target || !running_; });
  return published_;
}

std::size_t Daemon::Impl::receive_batch(Port& port, TimePoint now) {
  std::size_t received = 0;
  RxRing::Frame frame;
  while (received < kBatch && port.socket.ring.next(frame)) {
    ++received;
    if (frame.truncated) {
      ++counters_.truncated_frames;  // larger than a slot: a GSO/GRO aggregate from the peer
    } else if (frame.vlan_stripped) {
      ++counters_.ignored_frames;
    } else {
      handle_frame(port, frame.data, frame.length, frame.checksum_not_ready, now);
    }
    port.socket.ring.release();
  }
  auto& frames_in = port.side == Side::inside ? counters_.frames_in_inside : counters_.frames_in_outside;
  frames_in += received;
  if (received > 0) {
    flush(inside_);
    flush(outside_);
  }
  return received;
}

void Daemon::Impl::handle_frame(Port& port, std::uint8_t* frame, std::size_t length, bool checksum_not_ready,
                                TimePoint now) {
  if (length < kEthernetHeaderSize) {
    ++counters_.ignored_frames;
    return;
  }
  const bool for_us = std::memcmp(frame, port.interface.mac.data(), 6) == 0;
  const bool broadcast = std::memcmp(frame, kBroadcastMac.data(), 6) == 0;
  const std::uint16_t ether_type = load16(frame + 12);
  const std::span<std::uint8_t> payload(frame + kEthernetHeaderSize, length - kEthernetHeaderSize);
  if (ether_type == kEtherTypeIpv4 && for_us) {
    // Drop Ethernet padding: the IPv4 total length says where the packet ends.
    std::size_t size = payload.size();
    if (size >= 20) size = std::min<std::size_t>(size, std::max<std::size_t>(load16(&payload[2]), 20));
    if (checksum_not_ready) complete_transport_checksum(payload.first(size));
    nat_.process(payload.first(size), port.side, now, out_);
    if (out_.drop_reason() != DropReason::none) {
      const auto index = static_cast<std::size_t>(out_.drop_reason());
      if (index < counters_.nat_drops.size()) ++counters_.nat_drops[index];
    }
    emit(out_, now);
  } else if (ether_type == kEtherTypeArp && (for_us || broadcast)) {
    handle_arp(port, payload, now);
  } else {
    ++counters_.ignored_frames;
  }
}

void Daemon::Impl::emit(const Output& out, TimePoint now) {
  for (const auto& packet : out.packets()) send_ip(port(packet.to), packet.bytes, now);
}

void Daemon::Impl::handle_arp(Port& port, std::span<const std::uint8_t> payload, TimePoint now) {
  const auto message = parse_arp(payload);
  if (!message) {
    ++counters_.ignored_frames;
    return;
  }
  if (message->sender_ip != 0 && !port.owns(message->sender_ip)) {
    port.arp.learn(message->sender_ip, message->sender_mac);
    if (port.pending.packets(message->sender_ip) > 0) {
      for (const auto& packet : port.pending.resolve(message->sender_ip)) send_ip(port, packet, now);
    }
  }
  if (message->operation == ArpOperation::request && port.owns(message->target_ip)) {
    send_arp(port, message->sender_mac, arp_reply(*message, port.interface.mac, message->target_ip));
    ++counters_.arp_replies_sent;
  }
}

void Daemon::Impl::send_ip(Port& port, std::span<const std::uint8_t> packet, TimePoint now) {
  if (packet.size() < 20) return;
  const Ipv4Address destination = load32(&packet[16]);
  const Ipv4Address hop = next_hop(destination, port.link, port.gateway);
  MacAddress fixed;
  const MacAddress* mac = port.arp.find(hop);
  if (mac == nullptr && static_mac(destination, fixed)) mac = &fixed;
  if (mac != nullptr) {
    send_frame(port, *mac, kEtherTypeIpv4, packet);
    ++counters_.forwarded;
    return;
  }
  switch (port.pending.enqueue(hop, packet, now)) {
    case PendingResolutions::Queued::first:
      send_arp(port, kBroadcastMac, arp_request(port.interface.mac, port.own_addresses.front(), hop));
      ++counters_.arp_requests_sent;
      break;
    case PendingResolutions::Queued::queued: break;
    case PendingResolutions::Queued::dropped_oldest:
    case PendingResolutions::Queued::no_room: ++counters_.unresolved_drops; break;
  }
}

void Daemon::Impl::send_frame(Port& port, const MacAddress& destination, std::uint16_t ether_type,
                              std::span<const std::uint8_t> payload) {
  if (payload.size() + kEthernetHeaderSize > port.frame_capacity) {
    ++counters_.send_errors;
    return;
  }
  if (port.tx_count == kBatch) flush(port);
  std::uint8_t* slot = port.tx_slot(port.tx_count);
  write_ethernet(slot, destination, port.interface.mac, ether_type);
  std::memcpy(slot + kEthernetHeaderSize, payload.data(), payload.size());
  port.tx_vectors[port.tx_count].iov_len = payload.size() + kEthernetHeaderSize;
  ++port.tx_count;
}

void Daemon::Impl::send_arp(Port& port, const MacAddress& destination, const ArpMessage& message) {
  std::array<std::uint8_t, kArpFrameSize> frame{};
  write_arp_frame(frame.data(), destination, message);
  send_frame(port, destination, kEtherTypeArp,
             std::span<const std::uint8_t>(frame).subspan(kEthernetHeaderSize));
}

void Daemon::Impl::flush(Port& port) {
  std::size_t sent = 0;
  int stalls = 0;
  while (sent < port.tx_count) {
    const int result = ::sendmmsg(port.socket.fd.get(), port.tx_messages.data() + sent,
                                  static_cast<unsigned>(port.tx_count - sent), MSG_DONTWAIT);
    if (result > 0) {
      sent += static_cast<std::size_t>(result);
      continue;
    }
    if (result < 0 && (errno == EAGAIN || errno == ENOBUFS) && stalls < 3) {
      // The socket's send buffer is full: give the device a moment, then drop what is left.
      ++stalls;
      pollfd writable{port.socket.fd.get(), POLLOUT, 0};
      ::poll(&writable, 1, 2);
      continue;
    }
    // The frame at `sent` was refused (peer down, too big, buffer still full): drop it, go on.
    ++counters_.send_errors;
    ++sent;
  }
  auto& frames_out = port.side == Side::inside ? counters_.frames_out_inside : counters_.frames_out_outside;
  frames_out += port.tx_count;
  port.tx_count = 0;
}

void Daemon::Impl::tick(TimePoint now) {
  nat_.advance(now, out_);
  emit(out_, now);
  for (Port* side : {&inside_, &outside_}) {
    retry_.clear();
    counters_.unresolved_drops += side->pending.tick(now, retry_);
    for (const auto hop : retry_) {
      send_arp(*side, kBroadcastMac, arp_request(side->interface.mac, side->own_addresses.front(), hop));
      ++counters_.arp_requests_sent;
    }
  }
  flush(inside_);
  flush(outside_);
  publish();
}

// ---- Daemon -------------------------------------------------------------------------------------

Daemon::Daemon(DaemonConfig config) : impl_(std::make_unique<Impl>(prepare(std::move(config)))) {}
Daemon::~Daemon() = default;
void Daemon::run() { impl_->run(); }
void Daemon::stop() { impl_->stop(); }
void Daemon::request_reset() { impl_->request_reset(); }
bool Daemon::reset_and_wait(std::chrono::milliseconds timeout) { return impl_->reset_and_wait(timeout); }
bool Daemon::wait_running(std::chrono::milliseconds timeout) const { return impl_->wait_running(timeout); }
DaemonStats Daemon::stats() const { return impl_->stats(); }
const NatConfig& Daemon::nat_config() const { return impl_->nat_config_; }
const DaemonConfig& Daemon::config() const { return impl_->config_; }

std::string Daemon::inside_mac() const { return format_mac(impl_->inside_interface().mac); }
std::string Daemon::outside_mac() const { return format_mac(impl_->outside_interface().mac); }

std::string Daemon::startup_line() const {
  const auto& config = impl_->config_;
  std::string line = "natcert refnat: inside " + config.inside_interface + " (" + inside_mac() + ") " +
                     format_prefix(config.inside_address, config.inside_prefix) + ", outside " +
                     config.outside_interface + " (" + outside_mac() + ") ";
  for (std::size_t i = 0; i < config.outside_addresses.size(); ++i) {
    if (i > 0) line += "+";
    line += format_ipv4(config.outside_addresses[i]);
  }
  line += "/" + std::to_string(config.outside_prefix);
  line += ", gateway " + (config.gateway == 0 ? std::string("none (outside hosts on-link)") : format_ipv4(config.gateway));
  line += ", config " + config.nat_spec;
  line += impl_->adjustments_;
  return line;
}

std::string format_stats(const DaemonStats& stats) {
  std::string line;
  const auto field = [&](std::string_view key, std::uint64_t value) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    line += std::to_string(value);
  };
  field("frames_in_inside", stats.frames_in_inside);
  field("frames_in_outside", stats.frames_in_outside);
  field("frames_out_inside", stats.frames_out_inside);
  field("frames_out_outside", stats.frames_out_outside);
  field("forwarded", stats.forwarded);
  field("arp_replies_sent", stats.arp_replies_sent);
  field("arp_requests_sent", stats.arp_requests_sent);
  field("unresolved_drops", stats.unresolved_drops);
  field("send_errors", stats.send_errors);
  field("ignored_frames", stats.ignored_frames);
  field("truncated_frames", stats.truncated_frames);
  field("resets", stats.resets);
  field("mappings", stats.mappings);
  field("sessions", stats.sessions);
  std::uint64_t dropped = 0;
  for (const auto count : stats.nat_drops) dropped += count;
  field("nat_drops", dropped);
  for (std::size_t i = 1; i < stats.nat_drops.size(); ++i) {
    if (stats.nat_drops[i] == 0) continue;
    field(std::string("drop_") + std::string(to_string(static_cast<DropReason>(i))), stats.nat_drops[i]);
  }
  return line;
}

}  // namespace natcert::ref
