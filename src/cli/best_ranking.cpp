#include "cli/best_ranking.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "cli/results_file.hpp"

namespace mpisweep::cli {

namespace {

bool better(double a, double b, bool maximize) {
    return maximize ? a > b : a < b;
}

// The best element of `values` (NaNs skipped) and its index; nullopt when there is none.
std::optional<std::pair<double, std::size_t>> best_element(const std::vector<double>& values, bool maximize) {
    std::optional<std::pair<double, std::size_t>> best;
    for (std::size_t k = 0; k < values.size(); ++k)
        if (!std::isnan(values[k]) && (!best || better(values[k], best->first, maximize)))
            best = {{values[k], k}};
    return best;
}

// Mean, sample standard deviation (0 for one value) and count of the non-NaN `values`.
struct Moments {
    double mean = 0, spread = 0;
    std::size_t count = 0;
};

Moments moments(const std::vector<double>& values) {
    Moments m;
    double sum = 0;
    for (double v : values)
        if (!std::isnan(v)) {
            sum += v;
            ++m.count;
        }
    if (m.count == 0) return m;
    m.mean = sum / static_cast<double>(m.count);
    double squares = 0;
    for (double v : values)
        if (!std::isnan(v)) squares += (v - m.mean) * (v - m.mean);
    m.spread = m.count > 1 ? std::sqrt(squares / static_cast<double>(m.count - 1)) : 0;
    return m;
}

void sort_best_first(std::vector<Ranked>& ranked, const store::SettledTable& rows, bool maximize) {
    std::stable_sort(ranked.begin(), ranked.end(), [&](const Ranked& a, const Ranked& b) {
        if (a.value != b.value) return better(a.value, b.value, maximize);
        return rows.ids[a.row] < rows.ids[b.row];
    });
}

// A set's ranking entry from the arrays (or single values) of its rows.
std::optional<Ranked> average(const std::vector<std::vector<double>>& values, bool maximize) {
    std::size_t length = 0;
    for (const auto& v : values) length = std::max(length, v.size());
    std::vector<Moments> per_index(length);
    std::vector<double> means(length, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t k = 0; k < length; ++k) {
        std::vector<double> column;
        for (const auto& v : values)
            if (k < v.size()) column.push_back(v[k]);
        per_index[k] = moments(column);
        if (per_index[k].count > 0) means[k] = per_index[k].mean;
    }
    const auto best = best_element(means, maximize);
    if (!best) return std::nullopt;
    Ranked r;
    r.value = best->first;
    r.index = best->second;
    r.spread = per_index[best->second].spread;
    r.count = per_index[best->second].count;
    return r;
}

}  // namespace

std::vector<Ranked> rank_tasks(const store::SettledTable& rows, const store::ValueColumn& metric,
                               bool maximize) {
    std::vector<Ranked> ranked;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows.status[i] != TaskStatus::Done) continue;
        if (metric.is_array()) {
            if (const auto best = best_element(metric.array(i), maximize))
                ranked.push_back(Ranked{i, best->first, best->second, 0, 1});
        } else if (!std::isnan(metric.number(i))) {
            ranked.push_back(Ranked{i, metric.number(i), std::nullopt, 0, 1});
        }
    }
    sort_best_first(ranked, rows, maximize);
    return ranked;
}

std::vector<Ranked> rank_sets(const store::SettledTable& rows, const store::ValueColumn& metric,
                              bool maximize, const std::vector<std::size_t>& mean_over) {
    // Sets keyed by the text of their kept params, in order of their first task.
    std::map<std::vector<std::string>, std::size_t> set_of;
    std::vector<std::size_t> first_row;
    std::vector<std::vector<std::vector<double>>> values;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows.status[i] != TaskStatus::Done) continue;
        std::vector<std::string> key;
        for (std::size_t p = 0; p < rows.params.size(); ++p)
            if (std::find(mean_over.begin(), mean_over.end(), p) == mean_over.end())
                key.push_back(value_text(rows.params[p], i));
        auto [it, added] = set_of.emplace(std::move(key), first_row.size());
        if (added) {
            first_row.push_back(i);
            values.emplace_back();
        }
        values[it->second].push_back(metric.is_array() ? metric.array(i)
                                                       : std::vector<double>{metric.number(i)});
    }
    std::vector<Ranked> ranked;
    for (std::size_t s = 0; s < first_row.size(); ++s) {
        std::optional<Ranked> r = average(values[s], maximize);
        if (!r) continue;
        r->row = first_row[s];
        if (!metric.is_array()) r->index.reset();
        ranked.push_back(*r);
    }
    sort_best_first(ranked, rows, maximize);
    return ranked;
}

}  // namespace mpisweep::cli
