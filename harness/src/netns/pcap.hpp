// A pcap file (LINKTYPE_ETHERNET, microsecond timestamps) written frame by frame from several threads.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "natcert/harness/types.hpp"

namespace natcert::harness::netns {

class PcapWriter {
 public:
  // Throws NetnsError when the file cannot be created.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  void write(Bytes frame);  // timestamped now (wall clock)
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

}  // namespace natcert::harness::netns
