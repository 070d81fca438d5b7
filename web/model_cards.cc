#include "web/model_cards.h"

#include <sstream>

#include "model_cards_text.h"  // generated from docs/MODELS.md (web/CMakeLists.txt)

namespace avctl {

namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string InBackticks(const std::string& s) {
  const size_t a = s.find('`'), b = s.rfind('`');
  return a == std::string::npos || b <= a ? "" : s.substr(a + 1, b - a - 1);
}

}  // namespace

std::vector<ModelCard> ParseModelCards(const std::string& markdown) {
  std::vector<ModelCard> cards;
  std::istringstream in(markdown);
  std::string line;
  bool after_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      cards.push_back({Trim(line.substr(3)), "", {}, ""});
      after_table = false;
      continue;
    }
    if (cards.empty()) continue;
    ModelCard& card = cards.back();
    if (line.rfind("| ", 0) == 0) {
      after_table = true;
      if (line.rfind("| `", 0) != 0) continue;  // header and separator rows
      std::vector<std::string> cells;
      std::stringstream ss(line);
      std::string cell;
      while (std::getline(ss, cell, '|')) cells.push_back(cell);
      if (cells.size() < 5) continue;
      CardRow row;
      row.setting = InBackticks(cells[1]);
      row.value = Json::parse(InBackticks(cells[2]), nullptr, false);
      row.source = Trim(cells[3]);
      row.why = Trim(cells[4]);
      row.approximation = row.why.find("*approximation*") != std::string::npos;
      card.rows.push_back(std::move(row));
      continue;
    }
    (after_table ? card.notes : card.intro) += line + "\n";
  }
  return cards;
}

const std::vector<ModelCard>& ShippedModelCards() {
  static const std::vector<ModelCard> kCards = ParseModelCards(kModelCardsMarkdown);  // immutable once built
  return kCards;
}

const ModelCard* FindModelCard(const std::string& name) {
  for (const auto& c : ShippedModelCards()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace avctl
