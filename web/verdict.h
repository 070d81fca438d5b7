// The report's verdict block (issue 18): one plain sentence per comparison
// of the spec, the answer the page exists for, above the full statistics.
// Pure: from the analysis to text (the renderer escapes and places it).
#pragma once

#include <string>
#include <vector>

#include "web/report_analysis.h"

namespace avctl {

// "ladder_av beats backbone by +4.7 pp macro F1 (95% CI +2.1 to +7.3), 20
// matched pairs, Holm-adjusted p = 0.003: significant at α = 0.05." or the
// same saying that it does not; a comparison without two matched pairs says
// so. Comparisons of the spec only (ablations keep their own table).
std::vector<std::string> VerdictSentences(const ReportAnalysis& analysis);

// What the verdicts are about when the features are synthetic.
std::string SyntheticCaveat();

// "macro_f1" -> "macro F1", "micro_precision" -> "micro precision".
std::string MetricWords(const std::string& metric);

}  // namespace avctl
