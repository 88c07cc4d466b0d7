// The performance dashboard: every record of a directory, one chart per metric across runs (ordered
// by date) with each run's noise band, and the runs that regressed against the previous one flagged.
// A self-contained HTML page (inline SVG and CSS, no script, nothing fetched).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "natcert/perf/analysis.hpp"
#include "natcert/perf/record.hpp"

namespace natcert::perf {

struct RecordFile {
  std::filesystem::path path;
  Record record;
};

// Every *.json in `directory` (not recursive), ordered by the run's date (then file name). Throws
// RecordError (one line) when the directory cannot be read, holds no record, or a file is malformed.
std::vector<RecordFile> read_record_directory(const std::filesystem::path& directory);

struct DashboardSummary {
  std::size_t runs = 0;
  std::size_t charts = 0;
  std::size_t regressions = 0;  // points flagged across every chart
};

std::string render_dashboard(const std::vector<RecordFile>& runs, const RegressionRule& rule,
                             DashboardSummary* summary = nullptr);

}  // namespace natcert::perf
