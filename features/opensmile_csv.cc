#include "features/opensmile_csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/text.h"
#include "features/deltas.h"

namespace avctl {

namespace {

constexpr std::array<std::string_view, kComParE2016NumLlds> kComParE2016Names = {
    // is13_lld_nzsmo: is13_pitchG60 (viterbi F0final, voicingFinalUnclipped), is13_jitterShimmer
    "F0final_sma", "voicingFinalUnclipped_sma", "jitterLocal_sma", "jitterDDP_sma", "shimmerLocal_sma", "logHNR_sma",
    // is13_lldA_smo: audspecSum, audspecRastaSum, energy, zcr
    "audspec_lengthL1norm_sma", "audspecRasta_lengthL1norm_sma", "pcm_RMSenergy_sma", "pcm_zcr_sma",
    // is13_lldB_smo: audspecRasta (26 bands), spectral, mfcc 1-14
    "audSpec_Rfilt_sma[0]", "audSpec_Rfilt_sma[1]", "audSpec_Rfilt_sma[2]", "audSpec_Rfilt_sma[3]",
    "audSpec_Rfilt_sma[4]", "audSpec_Rfilt_sma[5]", "audSpec_Rfilt_sma[6]", "audSpec_Rfilt_sma[7]",
    "audSpec_Rfilt_sma[8]", "audSpec_Rfilt_sma[9]", "audSpec_Rfilt_sma[10]", "audSpec_Rfilt_sma[11]",
    "audSpec_Rfilt_sma[12]", "audSpec_Rfilt_sma[13]", "audSpec_Rfilt_sma[14]", "audSpec_Rfilt_sma[15]",
    "audSpec_Rfilt_sma[16]", "audSpec_Rfilt_sma[17]", "audSpec_Rfilt_sma[18]", "audSpec_Rfilt_sma[19]",
    "audSpec_Rfilt_sma[20]", "audSpec_Rfilt_sma[21]", "audSpec_Rfilt_sma[22]", "audSpec_Rfilt_sma[23]",
    "audSpec_Rfilt_sma[24]", "audSpec_Rfilt_sma[25]",
    "pcm_fftMag_fband250-650_sma", "pcm_fftMag_fband1000-4000_sma", "pcm_fftMag_spectralRollOff25.0_sma",
    "pcm_fftMag_spectralRollOff50.0_sma", "pcm_fftMag_spectralRollOff75.0_sma", "pcm_fftMag_spectralRollOff90.0_sma",
    "pcm_fftMag_spectralFlux_sma", "pcm_fftMag_spectralCentroid_sma", "pcm_fftMag_spectralEntropy_sma",
    "pcm_fftMag_spectralVariance_sma", "pcm_fftMag_spectralSkewness_sma", "pcm_fftMag_spectralKurtosis_sma",
    "pcm_fftMag_spectralSlope_sma", "pcm_fftMag_psySharpness_sma", "pcm_fftMag_spectralHarmonicity_sma",
    "mfcc_sma[1]", "mfcc_sma[2]", "mfcc_sma[3]", "mfcc_sma[4]", "mfcc_sma[5]", "mfcc_sma[6]", "mfcc_sma[7]",
    "mfcc_sma[8]", "mfcc_sma[9]", "mfcc_sma[10]", "mfcc_sma[11]", "mfcc_sma[12]", "mfcc_sma[13]", "mfcc_sma[14]"};

// Splits `line` at `sep` into `cells` (views into `line`). With `quotes`, a
// cell starting with '"' runs to its closing quote ("" inside is a quote)
// and keeps its quotes, as pandas writes cells holding the separator.
// Returns false for an unterminated quoted cell.
bool SplitCells(std::string_view line, char sep, bool quotes, std::vector<std::string_view>* cells) {
  cells->clear();
  size_t start = 0;
  while (true) {
    size_t end;
    if (quotes && start < line.size() && line[start] == '"') {
      size_t p = start + 1;
      while (true) {
        p = line.find('"', p);
        if (p == std::string_view::npos) return false;
        if (p + 1 < line.size() && line[p + 1] == '"') {
          p += 2;
          continue;
        }
        break;
      }
      end = line.find(sep, p + 1);
    } else {
      end = line.find(sep, start);
    }
    if (end == std::string_view::npos) {
      cells->push_back(line.substr(start));
      return true;
    }
    cells->push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

// The text of a cell, without surrounding spaces and double quotes.
std::string Unquote(std::string_view cell) {
  cell = Trim(cell);
  if (cell.size() < 2 || cell.front() != '"' || cell.back() != '"') return std::string(cell);
  std::string out;
  for (size_t i = 1; i + 1 < cell.size(); ++i) {
    out.push_back(cell[i]);
    if (cell[i] == '"' && cell[i + 1] == '"') ++i;
  }
  return out;
}

enum class NumberResult { kOk, kNotANumber, kOutOfRange };

NumberResult ParseNumber(std::string_view s, double* out) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return NumberResult::kNotANumber;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (p != s.data() + s.size()) return NumberResult::kNotANumber;
  if (ec == std::errc::result_out_of_range) return NumberResult::kOutOfRange;
  return ec == std::errc() ? NumberResult::kOk : NumberResult::kNotANumber;
}

bool ParseUnsigned(std::string_view s, double* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return ParseNumber(s, out) == NumberResult::kOk;
}

// "[-]D day(s) [+]HH:MM:SS[.ffffff]" (pandas Timedelta), "HH:MM:SS[.f]" or
// plain seconds.
bool ParseSeconds(std::string_view s, double* out) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = Trim(s.substr(1, s.size() - 2));
  if (ParseNumber(s, out) == NumberResult::kOk) return std::isfinite(*out);
  double days = 0;
  const size_t day = s.find(" day");
  if (day != std::string_view::npos) {
    std::string_view n = s.substr(0, day);
    const bool negative = !n.empty() && n.front() == '-';
    if (negative) n.remove_prefix(1);
    if (!ParseUnsigned(n, &days)) return false;
    if (negative) days = -days;
    s.remove_prefix(day + 4);
    if (!s.empty() && s.front() == 's') s.remove_prefix(1);
    s = Trim(s);
    if (s.empty()) {
      *out = days * 86400;
      return true;
    }
    if (s.front() == '+') s.remove_prefix(1);
  }
  const size_t c1 = s.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : s.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  double h, m, sec;
  std::string_view sec_text = s.substr(c2 + 1);
  if (!ParseUnsigned(s.substr(0, c1), &h) || !ParseUnsigned(s.substr(c1 + 1, c2 - c1 - 1), &m) ||
      sec_text.empty() || sec_text.front() < '0' || sec_text.front() > '9' ||
      ParseNumber(sec_text, &sec) != NumberResult::kOk || !std::isfinite(sec)) {
    return false;
  }
  *out = days * 86400 + h * 3600 + m * 60 + sec;
  return true;
}

// The base LLD of a delta column ("X_de" -> "X", "X_de[k]" -> "X[k]"), or
// nothing for a column that is not a delta.
std::optional<std::string> DeltaBase(std::string_view col) {
  constexpr std::string_view kDe = "_de";
  if (col.size() > kDe.size() && col.substr(col.size() - kDe.size()) == kDe) {
    return std::string(col.substr(0, col.size() - kDe.size()));
  }
  if (!col.empty() && col.back() == ']') {
    const size_t open = col.rfind('[');
    if (open != std::string_view::npos && open > kDe.size() && col.substr(open - kDe.size(), kDe.size()) == kDe) {
      return std::string(col.substr(0, open - kDe.size())) + std::string(col.substr(open));
    }
  }
  return std::nullopt;
}

// Where the index columns end and which one holds the frame time.
struct Layout {
  char sep = ',';
  bool quotes = false;  // pandas may quote cells
  size_t index_cols = 0;
  size_t time_col = 0;
};

Result<Layout> DetectLayout(std::string_view header, const std::string& name,
                            std::vector<std::string_view>* cells) {
  Layout l;
  if (header.find(';') != std::string_view::npos) {
    // cCsvSink writes "name", "frameIndex", "frameTime", "frameLength" (each optional) before the features.
    l.sep = ';';
    SplitCells(header, ';', false, cells);
    constexpr std::string_view kMeta[] = {"name", "frameIndex", "frameTime", "frameLength"};
    bool has_time = false;
    for (std::string_view meta : kMeta) {
      if (l.index_cols < cells->size() && Trim((*cells)[l.index_cols]) == meta) {
        if (meta == "frameTime") {
          has_time = true;
          l.time_col = l.index_cols;
        }
        ++l.index_cols;
      }
    }
    if (has_time) return l;
  }
  // pandas: ',' by default, ';' when written with sep=';'.
  l = Layout();
  l.sep = header.find(',') == std::string_view::npos && header.find(';') != std::string_view::npos ? ';' : ',';
  l.quotes = true;
  if (!SplitCells(header, l.sep, true, cells)) {
    return Status::InvalidArgument("unterminated quoted column name").WithFile(name).WithLine(1);
  }
  auto is = [&](size_t i, std::string_view want) { return i < cells->size() && Unquote((*cells)[i]) == want; };
  if (is(0, "file") && is(1, "start") && is(2, "end")) {
    l.index_cols = 3;
    l.time_col = 1;
    return l;
  }
  if (is(0, "start") && is(1, "end")) {
    l.index_cols = 2;
    l.time_col = 0;
    return l;
  }
  return Status::InvalidArgument(
             "unknown header form: expected 'name;frameTime;<LLDs>' (SMILExtract -lldcsvoutput) or "
             "'file,start,end,<LLDs>' (Python opensmile DataFrame.to_csv)")
      .WithFile(name)
      .WithLine(1);
}

Status CellError(const std::string& name, int64_t line, const std::string& column, const std::string& msg) {
  return Status::InvalidArgument(msg).WithFile(name).WithLine(line).WithField(column);
}

}  // namespace

const std::array<std::string_view, kComParE2016NumLlds>& ComParE2016LldNames() { return kComParE2016Names; }

std::string DeltaColumnName(std::string_view lld) {
  if (!lld.empty() && lld.back() == ']') {
    const size_t open = lld.rfind('[');
    if (open != std::string_view::npos && open > 0) {
      return std::string(lld.substr(0, open)) + "_de" + std::string(lld.substr(open));
    }
  }
  return std::string(lld) + "_de";
}

Status CheckComParE2016(const LldTable& table, const std::string& name) {
  std::unordered_set<std::string_view> want(kComParE2016Names.begin(), kComParE2016Names.end());
  for (const std::string& n : table.lld_names) {
    if (want.erase(n) == 0) {
      return Status::InvalidArgument(fmt::format("column '{}' is not a ComParE_2016 LLD", n))
          .WithFile(name)
          .WithLine(1)
          .WithField(n);
    }
  }
  if (!want.empty()) {
    std::vector<std::string_view> missing;
    for (std::string_view n : kComParE2016Names) {
      if (want.count(n)) missing.push_back(n);
    }
    const size_t shown = std::min<size_t>(missing.size(), 5);
    std::string list;
    for (size_t i = 0; i < shown; ++i) list += fmt::format("{}'{}'", i ? ", " : "", missing[i]);
    if (missing.size() > shown) list += fmt::format(" and {} more", missing.size() - shown);
    return Status::InvalidArgument(fmt::format("{} ComParE_2016 LLD(s) missing: {}", missing.size(), list))
        .WithFile(name)
        .WithLine(1);
  }
  return Status::OK();
}

Result<LldTable> ParseOpenSmileLldCsv(std::string_view text, const std::string& name) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark

  const std::vector<std::string_view> lines = SplitLines(text);
  if (lines.empty()) return Status::InvalidArgument("empty file: no header line").WithFile(name);

  std::vector<std::string_view> cells;
  AVCTL_ASSIGN_OR_RETURN(Layout layout, DetectLayout(lines[0], name, &cells));
  std::vector<std::string> columns;
  columns.reserve(cells.size());
  for (std::string_view c : cells) columns.push_back(layout.quotes ? Unquote(c) : std::string(Trim(c)));
  const size_t ncols = columns.size();
  if (ncols == layout.index_cols) {
    return Status::InvalidArgument("header has no LLD columns").WithFile(name).WithLine(1);
  }

  // Roles of the feature columns: base LLDs in file order, deltas by base name.
  LldTable t;
  std::vector<size_t> base_col;
  std::unordered_set<std::string> seen;
  std::unordered_map<std::string, size_t> delta_col_of;  // base name -> column
  std::vector<std::pair<std::string, size_t>> deltas;    // (base name, column) in file order
  for (size_t c = layout.index_cols; c < ncols; ++c) {
    const std::string& col = columns[c];
    if (col.empty()) {
      return Status::InvalidArgument(fmt::format("column {} has no name", c + 1)).WithFile(name).WithLine(1);
    }
    if (!seen.insert(col).second) {
      return Status::InvalidArgument(fmt::format("duplicate column '{}'", col)).WithFile(name).WithLine(1).WithField(col);
    }
    if (auto base = DeltaBase(col)) {
      delta_col_of[*base] = c;
      deltas.emplace_back(*base, c);
    } else {
      t.lld_names.push_back(col);
      base_col.push_back(c);
    }
  }
  const std::unordered_set<std::string> bases(t.lld_names.begin(), t.lld_names.end());
  for (const auto& [base, c] : deltas) {
    if (!bases.count(base)) {
      return Status::InvalidArgument(fmt::format("delta column '{}' has no base column '{}'", columns[c], base))
          .WithFile(name)
          .WithLine(1)
          .WithField(columns[c]);
    }
  }
  std::vector<size_t> delta_col;
  if (!deltas.empty()) {
    for (const std::string& base : t.lld_names) {
      auto it = delta_col_of.find(base);
      if (it == delta_col_of.end()) {
        return Status::InvalidArgument(fmt::format("column '{}' has no delta column '{}' while other columns do",
                                                   base, DeltaColumnName(base)))
            .WithFile(name)
            .WithLine(1)
            .WithField(base);
      }
      delta_col.push_back(it->second);
    }
  }
  t.num_llds = t.lld_names.size();
  t.deltas_computed = deltas.empty();
  const size_t L = t.num_llds;

  t.frames = lines.size() - 1;
  if (t.frames == 0) return Status::InvalidArgument("no frames: the file holds only its header").WithFile(name);
  t.values.assign(t.frames * 2 * L, 0.0f);
  t.frame_times.resize(t.frames);
  const std::string& time_name = columns[layout.time_col];
  for (size_t f = 0; f < t.frames; ++f) {
    const int64_t line_no = static_cast<int64_t>(f) + 2;
    const std::string_view line = lines[f + 1];
    if (!SplitCells(line, layout.sep, layout.quotes, &cells)) {
      return CellError(name, line_no, "", "unterminated quoted cell");
    }
    if (cells.size() != ncols) {
      return CellError(name, line_no, "",
                       Trim(line).empty() ? fmt::format("empty line where a frame of {} cells was expected", ncols)
                                          : fmt::format("expected {} cells, found {}", ncols, cells.size()));
    }
    if (!ParseSeconds(cells[layout.time_col], &t.frame_times[f])) {
      return CellError(name, line_no, time_name, fmt::format("'{}' is not a time", Trim(cells[layout.time_col])));
    }
    float* row = t.values.data() + f * 2 * L;
    const size_t stored = t.deltas_computed ? L : 2 * L;
    for (size_t k = 0; k < stored; ++k) {
      const size_t c = k < L ? base_col[k] : delta_col[k - L];
      double v;
      switch (ParseNumber(cells[c], &v)) {
        case NumberResult::kOk:
          break;
        case NumberResult::kNotANumber:
          return CellError(name, line_no, columns[c], fmt::format("'{}' is not a number", Trim(cells[c])));
        case NumberResult::kOutOfRange:
          return CellError(name, line_no, columns[c], fmt::format("'{}' is out of range", Trim(cells[c])));
      }
      if (!std::isfinite(v)) {
        return CellError(name, line_no, columns[c], fmt::format("value '{}' is not finite", Trim(cells[c])));
      }
      row[k] = static_cast<float>(v);
      if (!std::isfinite(row[k])) {
        return CellError(name, line_no, columns[c],
                         fmt::format("value '{}' is beyond float32's range", Trim(cells[c])));
      }
    }
  }

  if (t.deltas_computed) {
    ComputeDeltas(t.values.data(), t.frames, L, 2 * L, t.values.data() + L, 2 * L, 2);
    // ComParE_2016's voicing LLDs: segment mode over the six, in level order.
    std::array<size_t, kComParE2016NumVoicingLlds> pos{};
    bool all = true;
    for (size_t j = 0; j < kComParE2016NumVoicingLlds && all; ++j) {
      all = false;
      for (size_t k = 0; k < L; ++k) {
        if (t.lld_names[k] == kComParE2016Names[j]) {
          pos[j] = k;
          all = true;
          break;
        }
      }
    }
    if (all) {
      constexpr size_t V = kComParE2016NumVoicingLlds;
      std::vector<float> in(t.frames * V), out(t.frames * V);
      for (size_t f = 0; f < t.frames; ++f)
        for (size_t j = 0; j < V; ++j) in[f * V + j] = t.values[f * 2 * L + pos[j]];
      ComputeSegmentDeltas(in.data(), t.frames, V, V, out.data(), V, 2);
      for (size_t f = 0; f < t.frames; ++f)
        for (size_t j = 0; j < V; ++j) t.values[f * 2 * L + L + pos[j]] = out[f * V + j];
    }
  }
  return t;
}

Result<LldTable> ReadOpenSmileLldCsv(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseOpenSmileLldCsv(text, path);
}

}  // namespace avctl
