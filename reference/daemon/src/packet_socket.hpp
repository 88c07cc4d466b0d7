// Linux plumbing for the daemon: interface facts (index, MAC, MTU) and AF_PACKET sockets bound to one
// interface. Every failure is a DaemonError with a one-line message naming the option at fault.
#pragma once

#include <string>

#include "frames.hpp"

namespace natcert::ref::daemon {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  MacAddress mac{};
  unsigned mtu = 1500;
  bool up = false;
};
// `option` names the command-line option in messages ("--inside-if eth9: no such interface").
InterfaceInfo query_interface(const std::string& name, const std::string& option);

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// A non-blocking AF_PACKET/SOCK_RAW socket receiving every frame of the interface except its own
// (PACKET_IGNORE_OUTGOING), with PACKET_AUXDATA, and sending past the qdisc (PACKET_QDISC_BYPASS).
FileDescriptor open_packet_socket(const InterfaceInfo& interface, const std::string& option);

}  // namespace natcert::ref::daemon
