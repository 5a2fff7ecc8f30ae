// SPDX-License-Identifier: MIT
// A text table fitted to a terminal width by dropping optional columns and eliding wide ones.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace buntime::ctl {

enum class Align { Left, Right };

struct Column {
    std::string header;
    Align align = Align::Left;
    // 0: always shown. Otherwise, when the table is too wide, the column with the highest
    // value is dropped first.
    int drop_priority = 0;
    // An elastic column is cut (with "…") down to min_width before it would overflow.
    bool elastic = false;
    std::size_t min_width = 0;
};

// Value type; not thread-safe (build and render from one thread).
class Table {
public:
    explicit Table(std::vector<Column> columns);

    // A row has one cell per column; missing cells render empty, extra ones are ignored.
    void addRow(std::vector<std::string> cells);
    std::size_t rowCount() const { return rows_.size(); }

    // Header plus rows, each line ending in '\n' and at most `width` columns wide.
    // Columns are separated by two spaces.
    std::string render(std::size_t width) const;

    // Headers of the columns render(width) would show, in order (for tests and callers).
    std::vector<std::string> visibleHeaders(std::size_t width) const;

private:
    struct Layout {
        std::vector<std::size_t> shown;   // column indexes
        std::vector<std::size_t> widths;  // per shown column
    };
    Layout layout(std::size_t width) const;

    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace buntime::ctl
