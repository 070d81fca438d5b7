// The model cards of docs/MODELS.md, built into the binaries so that every
// report carries the card of each variant it shows (settings, sources,
// approximations), and parsed by one function that the cards' test also
// uses to check them against the presets. Pure.
#pragma once

#include <string>
#include <vector>

#include "common/json_util.h"

namespace avctl {

struct CardRow {
  std::string setting;  // "model.heads"
  Json value;           // as JSON; discarded when the cell is not JSON
  std::string source, why;
  bool approximation = false;  // the row says *approximation*
};

struct ModelCard {
  std::string name;   // "Defaults" or a preset name
  std::string intro;  // the paragraphs before its table (markdown)
  std::vector<CardRow> rows;
  std::string notes;  // the paragraphs after its table (markdown)
};

// "## name" sections with rows "| `setting` | `value` | source | why |".
std::vector<ModelCard> ParseModelCards(const std::string& markdown);

// docs/MODELS.md as it was when this binary was built, parsed.
const std::vector<ModelCard>& ShippedModelCards();
const ModelCard* FindModelCard(const std::string& name);

}  // namespace avctl
