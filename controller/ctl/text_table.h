#pragma once
// TextTable: left-aligned columns for overlinectl's human-readable output.
// Columns are as wide as their widest cell (in bytes: cells are ASCII) and
// separated by two spaces; trailing spaces are trimmed.

#include <string>
#include <vector>

namespace overline::controller {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers);
  // A row with fewer cells than headers is padded with empty cells.
  void addRow(std::vector<std::string> cells);
  std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] holds the headers
};

}  // namespace overline::controller
