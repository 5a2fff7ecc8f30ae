// SPDX-License-Identifier: MIT
// A text table fitted to a terminal width by dropping optional columns and eliding wide ones.
#include "buntime/ctl/table.h"

#include "buntime/ctl/units.h"

#include <algorithm>
#include <numeric>

namespace buntime::ctl {

namespace {

constexpr std::size_t gap = 2;

std::size_t totalWidth(const std::vector<std::size_t>& widths) {
    if (widths.empty()) {
        return 0;
    }
    return std::accumulate(widths.begin(), widths.end(), std::size_t{0}) + gap * (widths.size() - 1);
}

std::string pad(const std::string& text, std::size_t width, Align align) {
    const std::string cut = elide(text, width);
    const std::size_t fill = width - displayWidth(cut);
    return align == Align::Left ? cut + std::string(fill, ' ') : std::string(fill, ' ') + cut;
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::addRow(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

Table::Layout Table::layout(std::size_t width) const {
    std::vector<std::size_t> natural(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        natural[c] = displayWidth(columns_[c].header);
        for (const auto& row : rows_) {
            natural[c] = std::max(natural[c], displayWidth(row[c]));
        }
    }

    std::vector<bool> dropped(columns_.size(), false);
    auto current = [&] {
        Layout out;
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            if (!dropped[c]) {
                out.shown.push_back(c);
                out.widths.push_back(natural[c]);
            }
        }
        return out;
    };

    // First elide elastic columns as far as their minimum, then drop optional columns
    // (highest priority first, rightmost on ties), and elide again after each drop.
    auto shrinkElastic = [&](Layout& out) {
        std::size_t total = totalWidth(out.widths);
        for (std::size_t i = 0; i < out.shown.size() && total > width; ++i) {
            const Column& column = columns_[out.shown[i]];
            if (!column.elastic) {
                continue;
            }
            const std::size_t floor = std::max(column.min_width, displayWidth(column.header));
            if (out.widths[i] <= floor) {
                continue;
            }
            const std::size_t cut = std::min(out.widths[i] - floor, total - width);
            out.widths[i] -= cut;
            total -= cut;
        }
    };

    Layout out = current();
    shrinkElastic(out);
    while (totalWidth(out.widths) > width) {
        std::size_t victim = columns_.size();
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            if (!dropped[c] && columns_[c].drop_priority > 0 &&
                (victim == columns_.size() || columns_[c].drop_priority >= columns_[victim].drop_priority)) {
                victim = c;
            }
        }
        if (victim == columns_.size()) {
            break;  // nothing left to drop: render() cuts each line instead
        }
        dropped[victim] = true;
        out = current();
        shrinkElastic(out);
    }
    return out;
}

std::vector<std::string> Table::visibleHeaders(std::size_t width) const {
    std::vector<std::string> headers;
    for (const std::size_t c : layout(width).shown) {
        headers.push_back(columns_[c].header);
    }
    return headers;
}

std::string Table::render(std::size_t width) const {
    const Layout fitted = layout(width);
    auto line = [&](auto cellOf) {
        std::string text;
        for (std::size_t i = 0; i < fitted.shown.size(); ++i) {
            const std::size_t c = fitted.shown[i];
            const bool last = i + 1 == fitted.shown.size();
            std::string cell = pad(cellOf(c), fitted.widths[i], columns_[c].align);
            if (last && columns_[c].align == Align::Left) {
                cell.erase(cell.find_last_not_of(' ') + 1);
            }
            text += cell;
            if (!last) {
                text.append(gap, ' ');
            }
        }
        text.erase(text.find_last_not_of(' ') + 1);
        return elide(text, width) + '\n';
    };
    std::string out = line([&](std::size_t c) { return columns_[c].header; });
    for (const auto& row : rows_) {
        out += line([&](std::size_t c) { return row[c]; });
    }
    return out;
}

}  // namespace buntime::ctl
