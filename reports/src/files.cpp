// Report directories and whole-file I/O with one-line errors.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common.hpp"
#include "natcert/reports/reports.hpp"

namespace natcert::reports {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

template <typename Container>
void write_file(const fs::path& path, const Container& content) {
  // Write next to the target and rename, so a reader never sees half a report.
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw ReportError("cannot write " + path.string() + ": " + errno_text());
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw ReportError("cannot write " + path.string() + ": " + errno_text());
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    throw ReportError("cannot write " + path.string() + ": " + error.message());
  }
}

}  // namespace

std::string one_line(std::string_view text) {
  const std::string clean = detail::sanitize_utf8(text);
  std::string out;
  out.reserve(clean.size());
  static constexpr char digits[] = "0123456789abcdef";
  for (char c : clean) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0x0F];
    } else {
      out += c;
    }
  }
  return out;
}

std::string read_text_file(const fs::path& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) throw ReportError(path.string() + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReportError("cannot read " + path.string() + ": " + errno_text());
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ReportError("cannot read " + path.string() + ": " + errno_text());
  return content;
}

void write_text_file(const fs::path& path, std::string_view content) { write_file(path, content); }

void write_binary_file(const fs::path& path, const std::vector<std::uint8_t>& content) { write_file(path, content); }

Formats parse_formats(std::string_view list) {
  Formats formats{false, false, false, false};
  bool any = false;
  std::size_t position = 0;
  while (position <= list.size()) {
    const auto comma = list.find(',', position);
    std::string_view item = list.substr(position, comma == std::string_view::npos ? std::string_view::npos : comma - position);
    position = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    any = true;
    if (item == "json") {
      formats.json = true;
    } else if (item == "junit" || item == "xml") {
      formats.junit = true;
    } else if (item == "html") {
      formats.html = true;
    } else if (item == "pcap") {
      formats.pcap = true;
    } else if (item == "all") {
      formats = Formats{};
    } else {
      throw ReportError("unknown report format \"" + one_line(item) + "\" (json, junit, html, pcap or all)");
    }
  }
  if (!any) throw ReportError("no report format given (json, junit, html, pcap or all)");
  return formats;
}

std::vector<fs::path> write_report(const RunResult& run, const fs::path& directory, const Formats& formats,
                                   const JunitOptions& junit, const std::optional<Differential>& differential) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw ReportError("cannot create " + directory.string() + ": " + error.message());
  std::vector<fs::path> written;
  if (formats.json) {
    write_text_file(directory / "report.json", to_json(run, differential));
    written.push_back(directory / "report.json");
  }
  if (formats.junit) {
    write_text_file(directory / "junit.xml", to_junit(run, junit));
    written.push_back(directory / "junit.xml");
  }
  if (formats.html) {
    write_text_file(directory / "report.html", to_html(run, differential));
    written.push_back(directory / "report.html");
  }
  if (formats.pcap) {
    auto pcaps = write_pcaps(run, directory / "pcap");
    written.insert(written.end(), pcaps.begin(), pcaps.end());
  }
  return written;
}

RunResult read_report(const fs::path& directory_or_file, std::optional<Differential>* differential) {
  std::error_code error;
  const fs::path path =
      fs::is_directory(directory_or_file, error) ? directory_or_file / "report.json" : directory_or_file;
  if (!fs::exists(path, error)) {
    throw ReportError(path.string() + ": no such file" +
                      (path.filename() == "report.json" ? " (run `natcert run --out DIR` first)" : ""));
  }
  const std::string text = read_text_file(path);
  try {
    return from_json(text, differential);
  } catch (const ReportError& e) {
    throw ReportError(path.string() + ": " + e.what());
  }
}

}  // namespace natcert::reports
