#include "netns/pcap.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "natcert/harness/netns_testbed.hpp"

namespace natcert::harness::netns {
namespace {

void put32(std::FILE* f, std::uint32_t v) { std::fwrite(&v, 4, 1, f); }  // native order; the magic says which
void put16(std::FILE* f, std::uint16_t v) { std::fwrite(&v, 2, 1, f); }

}  // namespace

PcapWriter::PcapWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw NetnsError("cannot create pcap file " + path + ": " + std::strerror(errno));
  put32(file_, 0xa1b2c3d4u);
  put16(file_, 2);
  put16(file_, 4);
  put32(file_, 0);       // thiszone
  put32(file_, 0);       // sigfigs
  put32(file_, 262144);  // snaplen
  put32(file_, 1);       // LINKTYPE_ETHERNET
  std::fflush(file_);
}

PcapWriter::~PcapWriter() {
  if (file_) std::fclose(file_);
}

void PcapWriter::write(Bytes frame) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  std::lock_guard<std::mutex> lock(mutex_);
  put32(file_, static_cast<std::uint32_t>(micros / 1000000));
  put32(file_, static_cast<std::uint32_t>(micros % 1000000));
  const auto length = static_cast<std::uint32_t>(frame.size());
  put32(file_, length);
  put32(file_, length);
  std::fwrite(frame.data(), 1, frame.size(), file_);
  std::fflush(file_);  // a killed run still leaves a readable capture
}

}  // namespace natcert::harness::netns
