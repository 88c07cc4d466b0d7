// The daemon end to end: inside host -> refnat (in its own namespace, no kernel addresses) -> outside
// host, with real kernel UDP sockets at both ends. Needs root; skipped otherwise (failed under CI).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

#include "natcert/reference/daemon.hpp"
#include "netns_lab.hpp"

namespace natcert::ref {
namespace {

using testing::NetnsLab;

#define NEED_ROOT()                                                                                  \
  do {                                                                                               \
    if (!testing::running_as_root()) {                                                               \
      if (std::getenv("CI") != nullptr) FAIL() << "CI must run refnat_daemon_netns_tests as root";   \
      GTEST_SKIP() << "needs root (CAP_NET_ADMIN, CAP_NET_RAW): run as root";                        \
    }                                                                                                \
  } while (0)

sockaddr_in socket_address(const char* ip, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, ip, &address.sin_addr);
  return address;
}

int udp_socket(const char* ip, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  const auto address = socket_address(ip, port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("bind ") + ip + " failed: " + std::strerror(errno));
  }
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

std::string text_of(const sockaddr_in& address) {
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &address.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(address.sin_port));
}

// inside (10.0.0.10/24, default via 10.0.0.1) -- dut (refnat, no addresses) -- outside (203.0.113.254/24)
struct ThreeNamespaces {
  NetnsLab lab;
  std::string inside = lab.add_namespace("h");
  std::string dut = lab.add_namespace("dut");
  std::string outside = lab.add_namespace("h");
  ThreeNamespaces() {
    lab.add_veth(inside, "in0", dut, "rin0");
    lab.add_veth(dut, "rout0", outside, "out0");
    lab.in(inside, "addr add 10.0.0.10/24 dev in0");
    lab.in(inside, "route add default via 10.0.0.1");
    lab.in(outside, "addr add 203.0.113.254/24 dev out0");
  }
};

// Runs a Daemon in the DUT namespace on its own thread; stops and joins in the destructor.
class DaemonThread {
 public:
  DaemonThread(const std::string& dut, DaemonConfig config) {
    std::promise<void> constructed;
    auto ready = constructed.get_future();
    thread_ = std::thread([&, dut, config = std::move(config)]() mutable {
      try {
        NetnsLab::enter(dut);
        daemon_ = std::make_unique<Daemon>(std::move(config));
        constructed.set_value();
      } catch (...) {
        constructed.set_exception(std::current_exception());
        return;
      }
      try {
        daemon_->run();
      } catch (const std::exception& e) {
        run_error_ = e.what();
      }
    });
    try {
      ready.get();
    } catch (...) {
      thread_.join();
      throw;
    }
    daemon_->wait_running();
  }
  ~DaemonThread() {
    if (daemon_) daemon_->stop();
    thread_.join();
  }
  Daemon& daemon() { return *daemon_; }
  const std::string& run_error() const { return run_error_; }

 private:
  std::unique_ptr<Daemon> daemon_;
  std::string run_error_;
  std::thread thread_;
};

DaemonConfig config_for_three_namespaces() {
  DaemonConfig config;
  config.inside_interface = "rin0";
  config.outside_interface = "rout0";
  config.inside_address = 0x0a000001;        // 10.0.0.1
  config.inside_prefix = 24;
  config.outside_addresses = {0xcb007101};   // 203.0.113.1
  config.outside_prefix = 24;
  return config;
}

TEST(RefnatDaemon, TranslatesUdpBetweenTwoKernelHosts) {
  NEED_ROOT();
  ThreeNamespaces net;
  DaemonThread refnat(net.dut, config_for_three_namespaces());
  EXPECT_NE(refnat.daemon().startup_line().find("rin0"), std::string::npos);
  EXPECT_NE(refnat.daemon().startup_line().find("kernel ingress dropped"), std::string::npos)
      << refnat.daemon().startup_line();

  // The outside host echoes one datagram and reports whom it came from.
  std::promise<std::string> seen_source;
  std::thread echo([&] {
    NetnsLab::enter(net.outside);
    const int fd = udp_socket("203.0.113.254", 7777);
    std::string source = "nothing received";
    for (int attempt = 0; attempt < 5; ++attempt) {  // bounded: 5 x 1 s
      char buffer[64];
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const auto got = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (got <= 0) continue;
      source = text_of(from);
      ::sendto(fd, "pong", 4, 0, reinterpret_cast<const sockaddr*>(&from), length);
      break;
    }
    ::close(fd);
    seen_source.set_value(source);
  });

  std::string reply_from = "no reply";
  std::string reply;
  NetnsLab::in_namespace(net.inside, [&] {
    const int fd = udp_socket("10.0.0.10", 5555);
    const auto to = socket_address("203.0.113.254", 7777);
    for (int attempt = 0; attempt < 3 && reply.empty(); ++attempt) {  // the first may wait for ARP
      ::sendto(fd, "ping", 4, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      char buffer[64];
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const auto got = ::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (got > 0) {
        reply.assign(buffer, static_cast<std::size_t>(got));
        reply_from = text_of(from);
      }
    }
    ::close(fd);
  });
  echo.join();

  const std::string source = seen_source.get_future().get();
  EXPECT_EQ(source.substr(0, source.find(':')), "203.0.113.1") << "the outside host saw " << source;
  EXPECT_EQ(reply, "pong");
  EXPECT_EQ(reply_from, "203.0.113.254:7777");

  const auto stats = refnat.daemon().stats();
  std::printf("stats: %s\n", format_stats(stats).c_str());
  EXPECT_GE(stats.arp_replies_sent, 1u);  // at least the inside host asking for 10.0.0.1
  EXPECT_GE(stats.forwarded, 2u);
  EXPECT_EQ(stats.mappings, 1u);

  EXPECT_TRUE(refnat.daemon().reset_and_wait());
  const auto after = refnat.daemon().stats();
  EXPECT_EQ(after.resets, 1u);
  EXPECT_EQ(after.mappings, 0u);
  EXPECT_EQ(refnat.run_error(), "");
}

TEST(RefnatDaemon, UnknownInterfaceIsAOneLineError) {
  NEED_ROOT();
  ThreeNamespaces net;
  auto config = config_for_three_namespaces();
  config.inside_interface = "nosuch9";
  try {
    DaemonThread refnat(net.dut, config);
    FAIL() << "expected a DaemonError";
  } catch (const DaemonError& e) {
    EXPECT_STREQ(e.what(), "--inside-if nosuch9: no such interface");
  }
}

TEST(RefnatDaemon, OutsideMtuIsClampedToTheInterface) {
  NEED_ROOT();
  ThreeNamespaces net;
  net.lab.in(net.dut, "link set rout0 mtu 1400");
  DaemonThread refnat(net.dut, config_for_three_namespaces());
  EXPECT_EQ(refnat.daemon().nat_config().fragments.outside_mtu, 1400);
  EXPECT_NE(refnat.daemon().startup_line().find("clamped from 1500 to 1400"), std::string::npos)
      << refnat.daemon().startup_line();
}

}  // namespace
}  // namespace natcert::ref
