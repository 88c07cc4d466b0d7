// The RFC 9693 procedures: connection establishment rate, throughput on established connections,
// tear-down rate and connection-table capacity, for the DUT and the null DUT, per protocol.
#include "natcert/wirebench/wire_bench.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>

#include "packet_io.hpp"
#include "topology.hpp"

namespace natcert::wirebench {

namespace {

using namespace std::chrono_literals;

const char* name_of(Protocol protocol) { return protocol == Protocol::udp ? "udp" : "tcp"; }

std::string rate_text(double value) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.0f", value);
  return buffer;
}

// Connections established in one preliminary phase or trial: the Initiator's tuples and what the
// Responder learnt of their translation.
struct Established {
  std::vector<PortPair> ports;
  std::vector<Learnt> learnt;
  std::vector<std::uint8_t> validated;
  std::size_t count = 0;
  std::uint32_t tag = 0;
};

class Bench {
 public:
  Bench(Topology& topology, const Settings& settings, const std::function<void(const std::string&)>& progress)
      : topology_(topology), settings_(settings), progress_(progress) {
    inside_host_ = topology.config().inside_hosts.front();
    remote_host_ = topology.config().outside_hosts.front();
  }

  std::uint32_t next_tag() { return ++tag_; }

  Flow outbound_flow(const Path& path, const PortPair& ports) const {
    return Flow{path.inside_gen_mac, path.dut_inside_mac, inside_host_, remote_host_, ports.source, ports.destination};
  }

  // Initiator sends one probe per connection at `rate`; the Responder answers; returns the outcome.
  Established establish(const Path& path, Protocol protocol, const std::vector<PortPair>& ports, double rate,
                        std::uint32_t tag, bool& on_time) {
    std::vector<Frame> frames;
    frames.reserve(ports.size());
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const auto index = static_cast<std::uint32_t>(i);
      frames.push_back(protocol == Protocol::udp
                           ? build_frame(protocol, outbound_flow(path, ports[i]), 0, 0, 0, true, tag, index, Kind::probe)
                           : build_frame(protocol, outbound_flow(path, ports[i]), 0x02, initiator_isn(tag, index), 0,
                                         false, tag, index, Kind::probe));
    }
    ProbeReceiver responder(topology_.outside_ns(), path.outside_interface, ProbeReceiver::Role::responder, protocol, tag,
                            ports.size(), path.outside_gen_mac);
    ProbeReceiver initiator(topology_.inside_ns(), path.inside_interface, ProbeReceiver::Role::initiator, protocol, tag,
                            ports.size(), path.inside_gen_mac);
    PacketSocket sender(topology_.inside_ns(), path.inside_interface, false);
    const auto outcome = send_paced(sender.fd(), frames, frames.size(), rate);
    on_time = outcome.on_time;
    // Replies still in flight: wait until all are in or nothing new came for 300 ms (at most 3 s).
    const auto give_up = std::chrono::steady_clock::now() + 3s;
    std::size_t seen = initiator.validated();
    auto last_change = std::chrono::steady_clock::now();
    while (initiator.validated() < ports.size() && std::chrono::steady_clock::now() < give_up &&
           std::chrono::steady_clock::now() - last_change < 300ms) {
      std::this_thread::sleep_for(10ms);
      if (initiator.validated() != seen) {
        seen = initiator.validated();
        last_change = std::chrono::steady_clock::now();
      }
    }
    if (protocol == Protocol::tcp) std::this_thread::sleep_for(20ms);  // the last ACKs leave
    initiator.stop();
    responder.stop();
    Established result;
    result.ports = ports;
    result.learnt = responder.learnt();
    result.tag = tag;
    result.validated.resize(ports.size());
    for (std::size_t i = 0; i < ports.size(); ++i) {
      result.validated[i] = initiator.marked(i) && result.learnt[i].valid;
      result.count += result.validated[i];
    }
    return result;
  }

  // Preliminary phase: `count` connections at the setup rate, all validated (once more at a quarter of
  // the rate when some are missing). Throws BenchError when they cannot be established.
  Established preliminary(const Path& path, Protocol protocol, std::size_t count) {
    for (double rate : {settings_.setup_rate, settings_.setup_rate / 4}) {
      topology_.reset(path);
      const auto tag = next_tag();
      bool on_time = false;
      auto result = establish(path, protocol, unique_port_pairs(count, settings_.seed * 7919 + tag, settings_.ports),
                              rate, tag, on_time);
      if (result.count == count) return result;
    }
    throw BenchError("could not establish " + std::to_string(count) + " " + name_of(protocol) + " connections through " +
                     path.name + " at " + rate_text(settings_.setup_rate / 4) + "/s (preliminary phase)");
  }

  std::vector<Frame> data_frames(const Path& path, Protocol protocol, const Established& connections, bool outbound) {
    std::vector<Frame> frames;
    for (std::size_t i = 0; i < connections.ports.size(); ++i) {
      if (!connections.validated[i]) continue;
      const auto index = static_cast<std::uint32_t>(i);
      const std::uint32_t x = initiator_isn(connections.tag, index) + 1;
      const std::uint32_t y = responder_isn(connections.tag, index) + 1;
      if (outbound) {
        frames.push_back(build_frame(protocol, outbound_flow(path, connections.ports[i]), 0x18, x, y, true,
                                     connections.tag, index, Kind::data));
      } else {
        const Flow flow{path.outside_gen_mac, path.dut_outside_mac, remote_host_, connections.learnt[i].address,
                        connections.ports[i].destination, connections.learnt[i].port};
        frames.push_back(build_frame(protocol, flow, 0x18, y, x, true, connections.tag, index, Kind::data));
      }
    }
    return frames;
  }

  // Sends `count` frames at `rate` and counts them at the far generator; true when none was lost.
  bool zero_loss_trial(const Path& path, const std::vector<Frame>& frames, bool outbound, std::uint64_t count,
                       double rate, std::uint64_t* delivered = nullptr) {
    PacketSocket sender(outbound ? topology_.inside_ns() : topology_.outside_ns(),
                        outbound ? path.inside_interface : path.outside_interface, false);
    const auto before = topology_.received(path, !outbound);
    const auto outcome = send_paced(sender.fd(), frames, count, rate);
    std::this_thread::sleep_for(100ms);
    const auto arrived = topology_.received(path, !outbound) - before;
    if (delivered) *delivered = arrived;
    return outcome.on_time && arrived >= count;
  }

  Measurement& figure(const std::string& dut, const std::string& measure, Protocol protocol, const std::string& direction,
                      const std::string& unit) {
    for (auto& m : result_.measurements) {
      if (m.dut == dut && m.measure == measure && m.protocol == name_of(protocol) && m.direction == direction) return m;
    }
    Measurement m;
    m.dut = dut;
    m.measure = measure;
    m.protocol = name_of(protocol);
    m.direction = direction;
    m.unit = unit;
    result_.measurements.push_back(std::move(m));
    return result_.measurements.back();
  }

  void report(const Measurement& m, double value, std::size_t trials) {
    progress_(m.dut + " " + m.measure + " " + m.protocol + " " + m.direction + ": " + rate_text(value) + " " + m.unit +
              (trials ? " (" + std::to_string(trials) + " trials)" : std::string()));
  }

  double ceiling() const { return settings_.max_rate > 0 ? settings_.max_rate : result_.generator_pps; }

  void generator_alone(Protocol protocol) {
    const Path& path = topology_.direct();
    std::vector<Frame> frames;
    const auto ports = unique_port_pairs(1024, settings_.seed, settings_.ports);
    for (std::size_t i = 0; i < ports.size(); ++i) {
      frames.push_back(build_frame(protocol, outbound_flow(path, ports[i]), 0x18, 1, 1, true, 0,
                                   static_cast<std::uint32_t>(i), Kind::data));
    }
    PacketSocket sender(topology_.inside_ns(), path.inside_interface, false);
    const auto before = topology_.received(path, false);
    const auto count = static_cast<std::uint64_t>(std::max(2e6 * settings_.trial_seconds, 20000.0));
    // Unpaced, bounded by count and by the sender's own deadline.
    const auto outcome = send_paced(sender.fd(), frames, count, count / settings_.trial_seconds);
    std::this_thread::sleep_for(100ms);
    const auto arrived = topology_.received(path, false) - before;
    auto& m = figure("generator", "generator", protocol, "direct", "packets/s");
    const double pps = static_cast<double>(arrived) / std::max(outcome.seconds, 1e-6);
    m.values.push_back(pps);
    m.items.push_back(arrived);
    m.trials.push_back(1);
    if (arrived < outcome.sent) m.notes.push_back("generator alone lost " + std::to_string(outcome.sent - arrived) + " frames at full speed");
    report(m, pps, 0);
  }

  void connection_rate(const Path& path, Protocol protocol) {
    const std::size_t n = settings_.connections;
    auto& m = figure(path.name, "connection_rate", protocol, "outbound", "connections/s");
    const double high = ceiling();
    const auto search = binary_search_rate(high / 64, high, settings_.precision, settings_.max_trials, [&](double rate) {
      topology_.reset(path);
      const auto tag = next_tag();
      bool on_time = false;
      const auto result = establish(path, protocol, unique_port_pairs(n, settings_.seed * 7919 + tag, settings_.ports),
                                    rate, tag, on_time);
      return on_time && result.count == n;
    });
    m.values.push_back(search.rate);
    m.items.push_back(n);
    m.trials.push_back(search.trials);
    m.lower_bound = m.lower_bound || search.at_ceiling;
    report(m, search.rate, search.trials);
  }

  void throughput(const Path& path, Protocol protocol, bool outbound) {
    const auto connections = preliminary(path, protocol, settings_.connections);
    const auto frames = data_frames(path, protocol, connections, outbound);
    auto& m = figure(path.name, "throughput", protocol, outbound ? "outbound" : "inbound", "packets/s");
    const double high = ceiling();
    std::uint64_t last_count = 0;
    const auto search = binary_search_rate(high / 64, high, settings_.precision, settings_.max_trials, [&](double rate) {
      const auto count = std::max<std::uint64_t>(static_cast<std::uint64_t>(rate * settings_.trial_seconds), frames.size());
      last_count = count;
      return zero_loss_trial(path, frames, outbound, count, rate);
    });
    m.values.push_back(search.rate);
    m.items.push_back(static_cast<std::uint64_t>(search.rate * settings_.trial_seconds));
    m.trials.push_back(search.trials);
    m.lower_bound = m.lower_bound || search.at_ceiling;
    report(m, search.rate, search.trials);
  }

  // RFC 9693 tear-down: N connections are deleted at once (the DUT's own flush: conntrack -F, the
  // daemon's reset); rate = N / (time with N - time with an empty table).
  void teardown(const Path& path, Protocol protocol) {
    const auto connections = preliminary(path, protocol, settings_.connections);
    const double with_table = topology_.reset(path).count();
    const double empty = topology_.reset(path).count();
    auto& m = figure(path.name, "teardown_rate", protocol, "flush", "connections/s");
    double rate = 0;
    if (with_table > empty) {
      rate = static_cast<double>(connections.count) / (with_table - empty);
    } else {
      rate = static_cast<double>(connections.count) / std::max(with_table, 1e-6);
      m.lower_bound = true;
      m.notes.push_back("the flush of a full table took no longer than an empty one: N / flush time (a lower bound)");
    }
    m.values.push_back(rate);
    m.items.push_back(connections.count);
    m.trials.push_back(1);
    report(m, rate, 0);
  }

  // Connections are added in steps (each validated by its reply); after each step every connection so
  // far is swept from the outside to see it is still in the table. Ends when a step cannot be fully
  // established, an older connection vanished, or the cap is reached.
  void capacity(const Path& path, Protocol protocol) {
    topology_.reset(path);
    const std::size_t cap = settings_.capacity_cap;
    const std::size_t step = std::max<std::size_t>(cap / 16, 50);
    const auto all_ports = unique_port_pairs(cap, settings_.seed * 104729 + tag_ + 1, settings_.ports);
    Established alive;
    alive.tag = next_tag();
    std::vector<std::pair<std::uint32_t, std::uint32_t>> origin;  // (trial tag, index) per connection
    std::size_t offered = 0;
    std::size_t best = 0;
    bool full = false;
    auto& m = figure(path.name, "capacity", protocol, "outbound", "connections");
    while (offered < cap && !full) {
      const std::size_t take = std::min(step, cap - offered);
      std::vector<PortPair> slice(all_ports.begin() + static_cast<std::ptrdiff_t>(offered),
                                  all_ports.begin() + static_cast<std::ptrdiff_t>(offered + take));
      const auto tag = next_tag();
      bool on_time = false;
      const auto batch = establish(path, protocol, slice, settings_.setup_rate, tag, on_time);
      offered += take;
      for (std::size_t i = 0; i < slice.size(); ++i) {
        alive.ports.push_back(slice[i]);
        alive.learnt.push_back(batch.learnt[i]);
        alive.validated.push_back(batch.validated[i]);
        origin.emplace_back(tag, static_cast<std::uint32_t>(i));
      }
      alive.count += batch.count;
      // The sweep: one inbound data packet per validated connection, counted at the inside generator.
      std::vector<Frame> sweep;
      for (std::size_t i = 0; i < alive.ports.size(); ++i) {
        if (!alive.validated[i]) continue;
        const Flow flow{path.outside_gen_mac, path.dut_outside_mac, remote_host_, alive.learnt[i].address,
                        alive.ports[i].destination, alive.learnt[i].port};
        // In-window sequence numbers: a stateful firewall drops (and does not translate) anything else.
        const auto [trial, index] = origin[i];
        sweep.push_back(build_frame(protocol, flow, 0x18, responder_isn(trial, index) + 1, initiator_isn(trial, index) + 1,
                                    true, trial, index, Kind::data));
      }
      std::uint64_t delivered = 0;
      zero_loss_trial(path, sweep, false, sweep.size(), settings_.setup_rate, &delivered);
      best = std::max<std::size_t>(best, static_cast<std::size_t>(std::min<std::uint64_t>(delivered, sweep.size())));
      full = batch.count < take || delivered < sweep.size();
    }
    m.values.push_back(static_cast<double>(best));
    m.items.push_back(offered);
    m.trials.push_back(1);
    if (!full) {
      m.lower_bound = true;
    }
    progress_(path.name + " capacity " + name_of(protocol) + ": " + (full ? "" : ">= ") + std::to_string(best) +
              " connections (" + std::to_string(offered) + " offered)");
    topology_.reset(path);
  }

  Result& result() { return result_; }

 private:
  Topology& topology_;
  const Settings& settings_;
  const std::function<void(const std::string&)>& progress_;
  std::uint32_t inside_host_ = 0;
  std::uint32_t remote_host_ = 0;
  std::uint32_t tag_ = 0;
  Result result_;
};

double median_of(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

double Measurement::median() const { return median_of(values); }
double Measurement::min() const { return values.empty() ? 0 : *std::min_element(values.begin(), values.end()); }
double Measurement::max() const { return values.empty() ? 0 : *std::max_element(values.begin(), values.end()); }

const Measurement* Result::find(const std::string& dut_name, const std::string& measure, const std::string& protocol,
                                const std::string& direction) const {
  for (const auto& m : measurements) {
    if (m.dut == dut_name && m.measure == measure && m.protocol == protocol && m.direction == direction) return &m;
  }
  return nullptr;
}

Result run(const harness::NetnsDutConfig& dut, const std::string& name, const std::string& description,
           const Settings& settings, const std::function<void(const std::string&)>& progress) {
  if (!harness::netns_privileged()) {
    throw BenchError("the wire benchmarks need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to build network namespaces");
  }
  // The machine is shared: at a high priority the figures measure the data path, not the neighbours.
  ::setpriority(PRIO_PROCESS, 0, -10);
  Topology topology(dut, name, settings.null_dut);
  Bench bench(topology, settings, progress);
  bench.result().settings = settings;
  bench.result().dut = name;
  bench.result().description = description;
  std::vector<Protocol> protocols;
  if (settings.udp) protocols.push_back(Protocol::udp);
  if (settings.tcp) protocols.push_back(Protocol::tcp);
  std::vector<const Path*> paths;
  if (settings.null_dut) paths.push_back(&topology.null_dut());
  paths.push_back(&topology.dut());

  for (std::size_t repetition = 0; repetition < settings.repetitions; ++repetition) {
    progress("repetition " + std::to_string(repetition + 1) + " of " + std::to_string(settings.repetitions));
    for (Protocol protocol : protocols) bench.generator_alone(protocol);
    std::vector<double> generator;
    for (const auto& m : bench.result().measurements) {
      if (m.dut == "generator") generator.insert(generator.end(), m.values.begin(), m.values.end());
    }
    bench.result().generator_pps = median_of(generator);
    for (Protocol protocol : protocols) {
      for (const Path* path : paths) {
        bench.connection_rate(*path, protocol);
        if (settings.outbound) bench.throughput(*path, protocol, true);
        if (settings.inbound) bench.throughput(*path, protocol, false);
        if (path->stateful && settings.teardown) bench.teardown(*path, protocol);
        if (path->stateful && settings.capacity) bench.capacity(*path, protocol);
      }
    }
  }
  topology.shutdown();
  return bench.result();
}

}  // namespace natcert::wirebench
