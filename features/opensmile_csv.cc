#include "features/opensmile_csv.h"

#include <charconv>
#include <cmath>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "common/file_util.h"
#include "features/deltas.h"

namespace avctl {

const std::array<std::string_view, 65>& ComParE2016LldNames() {
  static constexpr std::array<std::string_view, 65> kNames = {
      "audspec_lengthL1norm_sma", "audspecRasta_lengthL1norm_sma", "pcm_RMSenergy_sma", "pcm_zcr_sma",
      "audSpec_Rfilt_sma[0]", "audSpec_Rfilt_sma[1]", "audSpec_Rfilt_sma[2]", "audSpec_Rfilt_sma[3]",
      "audSpec_Rfilt_sma[4]", "audSpec_Rfilt_sma[5]", "audSpec_Rfilt_sma[6]", "audSpec_Rfilt_sma[7]",
      "audSpec_Rfilt_sma[8]", "audSpec_Rfilt_sma[9]", "audSpec_Rfilt_sma[10]", "audSpec_Rfilt_sma[11]",
      "audSpec_Rfilt_sma[12]", "audSpec_Rfilt_sma[13]", "audSpec_Rfilt_sma[14]", "audSpec_Rfilt_sma[15]",
      "audSpec_Rfilt_sma[16]", "audSpec_Rfilt_sma[17]", "audSpec_Rfilt_sma[18]", "audSpec_Rfilt_sma[19]",
      "audSpec_Rfilt_sma[20]", "audSpec_Rfilt_sma[21]", "audSpec_Rfilt_sma[22]", "audSpec_Rfilt_sma[23]",
      "audSpec_Rfilt_sma[24]", "audSpec_Rfilt_sma[25]", "pcm_fftMag_fband250-650_sma", "pcm_fftMag_fband1000-4000_sma",
      "pcm_fftMag_spectralRollOff25.0_sma", "pcm_fftMag_spectralRollOff50.0_sma", "pcm_fftMag_spectralRollOff75.0_sma",
      "pcm_fftMag_spectralRollOff90.0_sma", "pcm_fftMag_spectralFlux_sma", "pcm_fftMag_spectralCentroid_sma",
      "pcm_fftMag_spectralEntropy_sma", "pcm_fftMag_spectralVariance_sma", "pcm_fftMag_spectralSkewness_sma",
      "pcm_fftMag_spectralKurtosis_sma", "pcm_fftMag_spectralSlope_sma", "pcm_fftMag_psySharpness_sma",
      "pcm_fftMag_spectralHarmonicity_sma", "mfcc_sma[1]", "mfcc_sma[2]", "mfcc_sma[3]", "mfcc_sma[4]", "mfcc_sma[5]",
      "mfcc_sma[6]", "mfcc_sma[7]", "mfcc_sma[8]", "mfcc_sma[9]", "mfcc_sma[10]", "mfcc_sma[11]", "mfcc_sma[12]",
      "mfcc_sma[13]", "mfcc_sma[14]", "F0final_sma", "voicingFinalUnclipped_sma", "jitterLocal_sma", "jitterDDP_sma",
      "shimmerLocal_sma", "logHNR_sma"};
  return kNames;
}

Status CheckComParE2016(const LldTable& t, const std::string& name) {
  std::set<std::string_view> expected(ComParE2016LldNames().begin(), ComParE2016LldNames().end());
  for (const auto& n : t.lld_names) {
    if (!expected.erase(n)) {
      return Status::InvalidArgument(fmt::format("column '{}' is not a ComParE_2016 LLD", n)).WithFile(name).WithLine(1).WithField(n);
    }
  }
  if (!expected.empty()) {
    return Status::InvalidArgument(fmt::format("{} ComParE_2016 LLD(s) missing, e.g. '{}'", expected.size(), *expected.begin()))
        .WithFile(name).WithLine(1);
  }
  return Status::OK();
}

namespace {

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    size_t p = line.find(sep, start);
    cells.push_back(line.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return cells;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// "0 days 00:00:01.020000" (pandas timedelta) or plain seconds.
bool ParseTime(std::string_view s, double* out) {
  s = Trim(s);
  if (ParseDouble(s, out)) return true;
  size_t days_pos = s.find(" days ");
  size_t skip = 6;
  if (days_pos == std::string_view::npos) {
    days_pos = s.find(" day ");
    skip = 5;
  }
  if (days_pos == std::string_view::npos) return false;
  double days = 0, h = 0, m = 0, sec = 0;
  if (!ParseDouble(s.substr(0, days_pos), &days)) return false;
  auto parts = Split(s.substr(days_pos + skip), ':');
  if (parts.size() != 3 || !ParseDouble(parts[0], &h) || !ParseDouble(parts[1], &m) || !ParseDouble(parts[2], &sec)) {
    return false;
  }
  *out = days * 86400 + h * 3600 + m * 60 + sec;
  return true;
}

}  // namespace

Result<LldTable> ParseOpenSmileLldCsv(std::string_view text, const std::string& name) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) return Status::InvalidArgument("empty file").WithFile(name);

  std::string_view header = Trim(lines[0]);
  char sep;
  size_t index_cols;
  size_t time_col;
  if (header.rfind("name;frameTime", 0) == 0) {
    sep = ';';
    index_cols = 2;
    time_col = 1;
  } else if (header.rfind("file,start,end", 0) == 0) {
    sep = ',';
    index_cols = 3;
    time_col = 1;
  } else {
    return Status::InvalidArgument(
               "unknown header: expected 'name;frameTime;...' (SMILExtract -lldcsvoutput) or 'file,start,end,...' "
               "(Python opensmile)")
        .WithFile(name).WithLine(1);
  }
  auto cols = Split(header, sep);
  if (cols.size() <= index_cols) return Status::InvalidArgument("no feature columns").WithFile(name).WithLine(1);

  // Column roles: base LLDs in file order, and deltas paired by name.
  LldTable t;
  std::unordered_map<std::string, size_t> seen;
  std::vector<size_t> base_col, delta_col;
  std::unordered_map<std::string, size_t> delta_of;  // base name -> column
  for (size_t c = index_cols; c < cols.size(); ++c) {
    std::string col(Trim(cols[c]));
    if (col.empty()) return Status::InvalidArgument(fmt::format("column {} has no name", c + 1)).WithFile(name).WithLine(1);
    if (!seen.emplace(col, c).second) {
      return Status::InvalidArgument(fmt::format("duplicate column '{}'", col)).WithFile(name).WithLine(1).WithField(col);
    }
    if (col.size() > 3 && col.compare(col.size() - 3, 3, "_de") == 0) {
      delta_of[col.substr(0, col.size() - 3)] = c;
    } else {
      t.lld_names.push_back(col);
      base_col.push_back(c);
    }
  }
  if (!delta_of.empty()) {
    std::set<std::string> bases(t.lld_names.begin(), t.lld_names.end());
    for (const auto& [base, c] : delta_of) {
      if (!bases.count(base)) {
        return Status::InvalidArgument(fmt::format("delta column '{}_de' has no base column '{}'", base, base))
            .WithFile(name).WithLine(1).WithField(base + "_de");
      }
    }
    for (const auto& base : t.lld_names) {
      auto it = delta_of.find(base);
      if (it == delta_of.end()) {
        return Status::InvalidArgument(fmt::format("column '{}' has no delta column '{}_de' while other columns do", base, base))
            .WithFile(name).WithLine(1).WithField(base);
      }
      delta_col.push_back(it->second);
    }
  }
  if (t.lld_names.empty()) return Status::InvalidArgument("no LLD columns").WithFile(name).WithLine(1);
  t.num_llds = t.lld_names.size();
  t.deltas_computed = delta_of.empty();
  const size_t L = t.num_llds;

  t.frames = lines.size() - 1;
  if (t.frames == 0) return Status::InvalidArgument("header only: no frames").WithFile(name);
  t.values.assign(t.frames * 2 * L, 0.0f);
  t.frame_times.resize(t.frames);
  for (size_t i = 1; i < lines.size(); ++i) {
    const int64_t line_no = static_cast<int64_t>(i) + 1;
    auto cells = Split(Trim(lines[i]), sep);
    if (cells.size() != cols.size()) {
      return Status::InvalidArgument(fmt::format("expected {} columns, got {}", cols.size(), cells.size()))
          .WithFile(name).WithLine(line_no);
    }
    if (!ParseTime(cells[time_col], &t.frame_times[i - 1])) {
      return Status::InvalidArgument(fmt::format("'{}' is not a time", Trim(cells[time_col])))
          .WithFile(name).WithLine(line_no).WithField(std::string(Trim(cols[time_col])));
    }
    float* row = t.values.data() + (i - 1) * 2 * L;
    for (size_t k = 0; k < 2 * L; ++k) {
      if (k >= L && t.deltas_computed) break;
      size_t c = k < L ? base_col[k] : delta_col[k - L];
      double v;
      if (!ParseDouble(cells[c], &v)) {
        return Status::InvalidArgument(fmt::format("'{}' is not a number", Trim(cells[c])))
            .WithFile(name).WithLine(line_no).WithField(std::string(Trim(cols[c])));
      }
      if (!std::isfinite(v) || !std::isfinite(static_cast<float>(v))) {
        return Status::InvalidArgument(fmt::format("value {} is not finite", Trim(cells[c])))
            .WithFile(name).WithLine(line_no).WithField(std::string(Trim(cols[c])));
      }
      row[k] = static_cast<float>(v);
    }
  }
  if (t.deltas_computed) ComputeDeltas(t.values.data(), t.frames, L, 2 * L, t.values.data() + L, 2 * L, 2);
  return t;
}

Result<LldTable> ReadOpenSmileLldCsv(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseOpenSmileLldCsv(text, path);
}

}  // namespace avctl
